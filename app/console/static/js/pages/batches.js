import { CONSOLE } from "../api/client.js";
import { deleteBatch, historicBatches, runningBatches, setSuspended } from "../api/batches.js";
import { $, describe, el, hide, poll, requireLogin, show, showError, when } from "../ui.js";

const POLL_MS = 2000;

export function progressOf(batch) {
  const total = batch.totalJobs || 0;
  const done = batch.completedJobs || 0;
  return { total, done, percent: total ? Math.floor((100 * done) / total) : 0 };
}

async function act(action) {
  try {
    await action();
    await refresh();
  } catch (error) {
    showError(error);
  }
}

function runningRow(batch) {
  const { total, done, percent } = progressOf(batch);
  const link = el("a", { href: `${CONSOLE}batches/${encodeURIComponent(batch.id)}` }, batch.id);
  const toggle = batch.suspended
    ? el("button", { type: "button", onclick: () => act(() => setSuspended(batch.id, false)) }, "Activate")
    : el("button", { type: "button", onclick: () => act(() => setSuspended(batch.id, true)) }, "Suspend");
  const remove = el("button", { type: "button", class: "danger", onclick: () => {
    if (confirm(`Delete batch ${batch.id}? Its remaining jobs are not processed.`)) act(() => deleteBatch(batch.id));
  } }, "Delete");
  return el("tr", { "data-batch-id": batch.id },
    el("td", {}, link), el("td", {}, batch.type),
    el("td", {}, el("progress", { max: 100, value: percent, "aria-label": `Progress of ${batch.id}` }),
      ` ${done} / ${total} batch jobs${batch.failedJobs ? `, ${batch.failedJobs} failed` : ""}`),
    el("td", {}, batch.suspended ? "suspended" : "running"),
    el("td", { class: "actions" }, toggle, remove));
}

async function refresh() {
  try {
    const batches = await runningBatches();
    if (!batches.length) {
      show("#running-status", "No batch is running.");
      hide("#running");
    } else {
      hide("#running-status");
      $("#running tbody").replaceChildren(...batches.map(runningRow));
      show("#running");
    }
    hide("#page-error");
  } catch (error) {
    show("#running-status", describe(error));
  }
  try {
    const history = await historicBatches();
    if (!history.length) {
      show("#history-status", "No batch has been run yet.");
      hide("#history");
    } else {
      hide("#history-status");
      $("#history tbody").replaceChildren(...history.map((batch) => el("tr", {},
        el("td", {}, el("a", { href: `${CONSOLE}batches/${encodeURIComponent(batch.id)}` }, batch.id)),
        el("td", {}, batch.type), el("td", { class: "number" }, batch.totalJobs),
        el("td", {}, when(batch.startTime)), el("td", {}, batch.endTime ? when(batch.endTime) : "running"))));
      show("#history");
    }
  } catch (error) {
    show("#history-status", describe(error));
  }
}

if (requireLogin()) poll(refresh, POLL_MS);

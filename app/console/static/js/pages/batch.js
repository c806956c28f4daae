import { CONSOLE } from "../api/client.js";
import { batchStatistics, deleteBatch, historicBatch, setSuspended } from "../api/batches.js";
import { NOT_AVAILABLE, outcome } from "../api/outcome.js";
import { $, describe, el, hide, poll, requireLogin, show, showError, when } from "../ui.js";

const batchId = $("#batch-root").dataset.batchId;
const POLL_MS = 1000;
const SET_RETRIES = "set-job-retries";

function fields(batch) {
  const list = $("#batch-fields");
  list.replaceChildren(
    el("dt", {}, "Id"), el("dd", {}, batch.id),
    el("dt", {}, "Type"), el("dd", {}, batch.type),
    el("dt", {}, "Batch jobs"), el("dd", {}, batch.totalJobs),
    el("dt", {}, "Created by"), el("dd", {}, batch.createUserId || "—"),
    el("dt", {}, "Started"), el("dd", {}, when(batch.startTime)));
  if (batch.endTime !== undefined) list.append(el("dt", {}, "Ended"), el("dd", {}, when(batch.endTime)));
  show(list);
}

function progress(done, total) {
  const percent = total ? Math.floor((100 * done) / total) : 100;
  $("#progress").value = percent;
  $("#progress-text").textContent = `${done} of ${total} batch jobs done (${percent} %)`;
  show("#progress-wrap");
}

// Returns the outcome shown, or null when there is none to show.
async function loadOutcome(type, final) {
  if (type !== SET_RETRIES) {
    show("#outcome-status", "An outcome is shown for set-retries batches only.");
    return null;
  }
  try {
    const result = await outcome(batchId);
    if (result === null) {
      show("#outcome-status", NOT_AVAILABLE);
      return null;
    }
    hide("#outcome-status");
    const list = $("#outcome");
    list.replaceChildren();
    for (const [label, key] of [["Jobs", "elements"], ["Updated", "updated"], ["Skipped", "skipped"],
      ["Succeeded", "succeeded"], ["Failed again", "failedAgain"], ["Pending", "pending"]]) {
      list.append(el("dt", {}, label), el("dd", { "data-outcome": key }, result[key] ?? "—"));
    }
    show(list);
    const failures = result.newFailures || [];
    if (failures.length) {
      $("#failures tbody").replaceChildren(...failures.map((failure) => el("tr", {},
        el("td", { class: "message" }, failure.value ?? failure.message ?? "(none)"),
        el("td", { class: "number" }, failure.count))));
      show("#failures-title");
      show("#failures");
    } else if (final) {
      hide("#failures-title");
      hide("#failures");
    }
    return result;
  } catch (error) {
    show("#outcome-status", describe(error));
    return null;
  }
}

let outcomeTick = 0;
// The historic batch once it has ended. Its revived jobs may still be due or running then
// (the batch ends when its last slice has set retries, not when the jobs have run), so the
// page keeps reading the outcome, every OUTCOME_TICKS polls, until nothing is pending.
let ended = null;
const OUTCOME_TICKS = 5;

function stillPending(result) {
  return Boolean(result && result.pending > 0);
}

async function refresh() {
  if (ended) {
    if (outcomeTick++ % OUTCOME_TICKS !== 0) return true;
    return stillPending(await loadOutcome(ended.type, true));
  }
  try {
    const running = await batchStatistics(batchId);
    if (running) {
      hide("#batch-status");
      show("#batch-state", running.suspended ? "Suspended" : "Running");
      progress(running.completedJobs, running.totalJobs);
      fields(running);
      show("#batch-actions");
      $("#suspend").hidden = running.suspended;
      $("#activate").hidden = !running.suspended;
      if (outcomeTick++ % OUTCOME_TICKS === 0) await loadOutcome(running.type, false);
      return true;
    }
    const history = await historicBatch(batchId);
    hide("#batch-actions");
    if (!history) {
      show("#batch-status", `Batch ${batchId} does not exist.`);
      return false;
    }
    hide("#batch-status");
    show("#batch-state", history.endTime ? "Completed" : "Running");
    if (history.endTime) progress(history.totalJobs, history.totalJobs);
    fields(history);
    const result = await loadOutcome(history.type, Boolean(history.endTime));
    if (!history.endTime) return true;
    ended = history;
    outcomeTick = 1;
    return stillPending(result);
  } catch (error) {
    show("#batch-status", describe(error));
    return true;
  }
}

async function act(action) {
  try {
    await action();
    hide("#page-error");
    await refresh();
  } catch (error) {
    showError(error);
  }
}

if (requireLogin()) {
  document.title = `Batch ${batchId} · jobservice console`;
  $("#suspend").addEventListener("click", () => act(() => setSuspended(batchId, true)));
  $("#activate").addEventListener("click", () => act(() => setSuspended(batchId, false)));
  $("#delete").addEventListener("click", () => {
    if (confirm(`Delete batch ${batchId}? Its remaining jobs are not processed.`)) {
      act(async () => { await deleteBatch(batchId); location.assign(`${CONSOLE}batches`); });
    }
  });
  poll(refresh, POLL_MS);
}

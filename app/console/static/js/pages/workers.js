import { CONSOLE } from "../api/client.js";
import { workers } from "../api/workers.js";
import { $, describe, el, hide, poll, requireLogin, show, when } from "../ui.js";

const POLL_MS = 3000;

function heldJobs(worker) {
  if (!worker.heldJobCount) return "none";
  const cell = el("span", {}, `${worker.heldJobCount}: `);
  worker.heldJobIds.forEach((id, index) => {
    if (index) cell.append(", ");
    cell.append(el("a", { href: `${CONSOLE}jobs/${encodeURIComponent(id)}` }, id));
  });
  if (worker.heldJobCount > worker.heldJobIds.length) cell.append(", …");
  return cell;
}

async function refresh() {
  try {
    const list = await workers();
    if (!list.length) {
      show("#workers-status", "No worker is registered: start one (make run-worker, or make run) to execute jobs.");
      hide("#workers");
      return;
    }
    hide("#workers-status");
    $("#workers tbody").replaceChildren(...list.map((worker) => el("tr", {},
      el("td", {}, worker.id), el("td", {}, worker.alive ? "alive" : "not responding"),
      el("td", {}, when(worker.heartbeatAt)), el("td", {}, when(worker.startedAt)), el("td", {}, heldJobs(worker)))));
    show("#workers");
  } catch (error) {
    show("#workers-status", error.endpointMissing
      ? "The workers list is not available on this server (GET /api/workers answers 404)." : describe(error));
  }
}

if (requireLogin()) poll(refresh, POLL_MS);

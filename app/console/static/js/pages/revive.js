import { CONSOLE } from "../api/client.js";
import { countJobs, setRetriesAsync } from "../api/jobs.js";
import { BREAKDOWNS, NOT_AVAILABLE, preview } from "../api/preview.js";
import { $, describe, el, hide, requireLogin, show, wireDate } from "../ui.js";

const params = new URLSearchParams(location.search);
let selection = null;
let previewedCount = null;

function readSelection() {
  const raw = params.get("query");
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : null;
  } catch (error) {
    return null;
  }
}

// POST /job/retries takes jobIds or a jobQuery; a single job from the job page comes as jobIds.
function body() {
  const request = selection.jobIds ? { jobIds: selection.jobIds } : { jobQuery: selection };
  request.retries = Number($("#retries").value);
  const due = wireDate($("#due-date").value);
  if (due) request.dueDate = due;
  const spread = $("#spread").value;
  if (spread !== "") request.dueDateSpreadSeconds = Number(spread); // ISSUE 11
  return request;
}

function confirmText() {
  const retries = $("#retries").value || "?";
  const jobs = previewedCount === null ? "the selected jobs" : `${previewedCount} job${previewedCount === 1 ? "" : "s"}`;
  let text = `Set the retries of ${jobs} to ${retries}`;
  if ($("#due-date").value) text += `, due ${$("#due-date").value.replace("T", " ")}`;
  if ($("#spread").value) text += `, spread over ${$("#spread").value} s`;
  $("#confirm-text").textContent = `${text}, in a batch.`;
}

async function loadPreview() {
  const status = $("#preview-status");
  try {
    const answer = await preview(body());
    if (answer === null) {
      show(status, NOT_AVAILABLE);
      if (selection.exceptionMessageLike !== undefined) {
        // Without issue 11 the server ignores the message filter (A6): the batch would revive
        // every failed job, not the ones the operator filtered. Refuse rather than surprise.
        show("#revive-error", "This server cannot select jobs by message text (exceptionMessageLike), so it would "
          + "revive more jobs than you filtered. Select by activity, tenant or process definition key instead.");
        $("#confirm").disabled = true;
        return;
      }
      if (!selection.jobIds) {
        previewedCount = await countJobs(selection);
        show("#preview-count", `${previewedCount} jobs match (counted with POST /job/count; no breakdown).`);
      }
      return;
    }
    hide(status);
    previewedCount = answer.count;
    show("#preview-count", `${answer.count} job${answer.count === 1 ? "" : "s"} will get new retries.`);
    const container = $("#preview-breakdown");
    container.replaceChildren();
    if (answer.missingJobIds && answer.missingJobIds.length) {
      container.append(el("p", { class: "note" }, `${answer.missingJobIds.length} of the given job ids do not exist: `
        + answer.missingJobIds.slice(0, 10).join(", ")));
    }
    for (const [key, title] of BREAKDOWNS) {
      const groups = answer[key] || [];
      if (!groups.length) continue;
      container.append(el("table", { class: "data group", "data-breakdown": key }, el("caption", {}, title),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, title), el("th", { scope: "col" }, "Jobs"))),
        el("tbody", {}, ...groups.map((group) => el("tr", {},
          el("td", { class: "message" }, group.value === null ? "(none)" : group.value),
          el("td", { class: "number" }, group.count))))));
    }
  } catch (error) {
    show(status, describe(error));
  } finally {
    confirmText();
  }
}

async function submit(event) {
  event.preventDefault();
  hide("#revive-error");
  const button = $("#confirm");
  button.disabled = true;
  try {
    const batch = await setRetriesAsync(body());
    location.assign(`${CONSOLE}batches/${encodeURIComponent(batch.id)}`);
  } catch (error) {
    show("#revive-error", describe(error));
    button.disabled = false;
  }
}

if (requireLogin()) {
  selection = readSelection();
  if (selection === null) {
    $("#selection").textContent = "No jobs are selected: choose a group or filter the failed jobs first.";
    hide("#revive-form");
    show("#preview-status", "Nothing to preview.");
  } else {
    $("#selection").textContent = `Selected: ${params.get("label") || "the jobs of the failed jobs page"}.`;
    for (const id of ["#retries", "#due-date", "#spread"]) $(id).addEventListener("input", confirmText);
    $("#revive-form").addEventListener("submit", submit);
    loadPreview();
  }
}

import { CONSOLE } from "../api/client.js";
import { getJob, getStacktrace } from "../api/jobs.js";
import { NOT_AVAILABLE, jobLog } from "../api/joblog.js";
import { reviveUrl } from "../selection.js";
import { $, describe, el, hide, requireLogin, show, when } from "../ui.js";

const jobId = $("#job-root").dataset.jobId;

const FIELDS = [
  ["Id", "id"], ["Exception message", "exceptionMessage"], ["Retries", "retries"], ["Activity", "failedActivityId"],
  ["Process definition key", "processDefinitionKey"], ["Process instance", "processInstanceId"],
  ["Job definition", "jobDefinitionId"], ["Tenant", "tenantId"], ["Due date", "dueDate", when],
  ["Created", "createTime", when], ["Suspended", "suspended", (v) => (v ? "yes" : "no")], ["Priority", "priority"],
];

async function loadJob() {
  try {
    const job = await getJob(jobId);
    const list = $("#job-fields");
    for (const [label, key, format] of FIELDS) {
      const value = job[key];
      list.append(el("dt", {}, label), el("dd", { "data-field": key },
        value === null || value === undefined ? "—" : format ? format(value) : value));
    }
    show(list);
    hide("#job-status");
    show("#job-actions");
    $("#revive-job").addEventListener("click", () => location.assign(reviveUrl(CONSOLE, { jobIds: [jobId] }, `job ${jobId}`)));
    document.title = `Job ${jobId} · jobservice console`;
  } catch (error) {
    show("#job-status", describe(error));
  }
}

async function loadTrace() {
  try {
    const trace = await getStacktrace(jobId);
    show("#stacktrace", trace);
    hide("#trace-status");
  } catch (error) {
    show("#trace-status", error.status === 404 ? "This job has no stack trace." : describe(error));
  }
}

async function loadLog() {
  try {
    const entries = await jobLog(jobId);
    if (entries === null) return show("#log-status", NOT_AVAILABLE);
    if (!entries.length) return show("#log-status", "The job log has no entries for this job.");
    const body = $("#job-log tbody");
    for (const entry of entries) {
      const event = entry.creationLog ? "created" : entry.failureLog ? "failed" : entry.successLog ? "succeeded"
        : entry.deletionLog ? "deleted" : "—";
      body.append(el("tr", {}, el("td", {}, when(entry.timestamp)), el("td", {}, event),
        el("td", { class: "number" }, entry.jobRetries ?? "—"), el("td", { class: "message" }, entry.jobExceptionMessage || "—"),
        el("td", {}, entry.hostname || "—")));
    }
    show("#job-log");
    hide("#log-status");
  } catch (error) {
    show("#log-status", describe(error));
  }
}

if (requireLogin()) {
  loadJob();
  loadTrace();
  loadLog();
}

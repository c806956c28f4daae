import { CONSOLE } from "../api/client.js";
import { PAGE_SIZE, countJobs, queryJobs } from "../api/jobs.js";
import { BREAKDOWNS, NOT_AVAILABLE, preview } from "../api/preview.js";
import { FILTERS, describeFilters, filtersFromUrl, groupCondition, jobQueryOf, reviveUrl } from "../selection.js";
import { $, describe, el, hide, requireLogin, show, when } from "../ui.js";

const filters = filtersFromUrl();
const jobQuery = jobQueryOf(filters);
let loaded = 0;

function fillForm() {
  for (const name of FILTERS) $(`#filters [name=${name}]`).value = filters[name];
}

function applyForm(event) {
  event.preventDefault();
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = $(`#filters [name=${name}]`).value.trim();
    if (value) params.set(name, value);
  }
  location.assign(`${CONSOLE}failed-jobs${params.toString() ? "?" + params : ""}`);
}

function messageMatches(job) {
  if (!filters.message) return true;
  const needle = filters.message.replaceAll("%", "").toLowerCase();
  return (job.exceptionMessage || "").toLowerCase().includes(needle);
}

function jobRow(job) {
  return el("tr", {},
    el("td", {}, el("a", { href: `${CONSOLE}jobs/${encodeURIComponent(job.id)}` }, job.id)),
    el("td", { class: "message" }, job.exceptionMessage || "—"),
    el("td", {}, job.failedActivityId || "—"),
    el("td", {}, job.processDefinitionKey || "—"),
    el("td", {}, job.tenantId || "—"),
    el("td", {}, when(job.createTime)));
}

async function loadJobs() {
  const status = $("#jobs-status");
  try {
    const jobs = await queryJobs(jobQuery, loaded, PAGE_SIZE);
    if (loaded === 0 && jobs.length === 0) {
      show(status, filters.message || filters.activity || filters.tenant || filters.key || filters.after || filters.before
        ? "No failed job matches these filters." : "There are no failed jobs: every job has retries left.");
      hide("#jobs");
      hide("#more");
      return;
    }
    hide(status);
    const body = $("#jobs tbody");
    for (const job of jobs) body.append(jobRow(job));
    show("#jobs");
    loaded += jobs.length;
    $("#more").hidden = jobs.length < PAGE_SIZE;
    if (!jobs.every(messageMatches)) {
      show("#filter-note", "This server does not filter by message (exceptionMessageLike is not supported): "
        + "the list below is not filtered by the message text, and \"Revive all matching\" would include every listed job.");
    }
  } catch (error) {
    show(status, describe(error));
  }
}

async function loadCount() {
  try {
    const count = await countJobs(jobQuery);
    $("#job-count").textContent = `(${count})`;
  } catch (error) {
    $("#job-count").textContent = "";
  }
}

// The failed-jobs filter a group narrows the list to (a job definition has no filter field).
const GROUP_FILTERS = { byExceptionMessage: "message", byActivityId: "activity", byTenantId: "tenant" };

function showUrl(key, value) {
  const params = new URLSearchParams(location.search);
  params.set(GROUP_FILTERS[key], value);
  return `${CONSOLE}failed-jobs?${params}`;
}

function groupTable(key, title, groups) {
  const table = el("table", { class: "data group", "data-breakdown": key },
    el("caption", {}, title),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, title), el("th", { scope: "col" }, "Jobs"),
      el("th", { scope: "col" }, "Actions"))));
  const body = el("tbody");
  for (const group of groups) {
    const label = group.value === null ? "(none)" : group.value;
    const condition = groupCondition(key, group.value);
    const groupQuery = { ...jobQuery, ...condition };
    body.append(el("tr", {},
      el("td", { class: "message" }, label),
      el("td", { class: "number" }, group.count),
      el("td", { class: "actions" },
        GROUP_FILTERS[key] && group.value !== null
          ? el("a", { href: showUrl(key, group.value), "aria-label": `List the jobs of ${title.toLowerCase()} ${label}` }, "List")
          : null,
        el("a", { class: "button", href: reviveUrl(CONSOLE, groupQuery, `${describeFilters(filters)}, ${title.toLowerCase()} ${label}`),
          "aria-label": `Revive the ${group.count} jobs of ${title.toLowerCase()} ${label}` }, "Revive…"))));
  }
  table.append(body);
  return table;
}

async function loadGroups() {
  const status = $("#groups-status");
  show(status, "Loading the groups…");
  try {
    const answer = await preview({ jobQuery, retries: 1 });
    if (answer === null) {
      show(status, `${NOT_AVAILABLE} The jobs are listed below without grouping.`);
      return;
    }
    if (answer.count === 0) {
      show(status, "No failed jobs to group.");
      return;
    }
    hide(status);
    const container = $("#groups");
    for (const [key, title] of BREAKDOWNS) {
      if (answer[key] && answer[key].length) container.append(groupTable(key, title, answer[key]));
    }
  } catch (error) {
    show(status, describe(error));
  }
}

if (requireLogin()) {
  fillForm();
  $("#filters").addEventListener("submit", applyForm);
  $("#clear").addEventListener("click", () => location.assign(`${CONSOLE}failed-jobs`));
  $("#revive-all").addEventListener("click", () => location.assign(reviveUrl(CONSOLE, jobQuery, describeFilters(filters))));
  $("#more").addEventListener("click", loadJobs);
  loadGroups();
  loadCount();
  loadJobs();
}

// The failed-jobs filters <-> the console URL <-> Camunda's job query; the revive page's selection.
import { wireDate } from "./ui.js";

export const FILTERS = ["message", "activity", "tenant", "key", "after", "before"];

export function filtersFromUrl(search = location.search) {
  const params = new URLSearchParams(search);
  return Object.fromEntries(FILTERS.map((name) => [name, params.get(name) || ""]));
}

// exceptionMessageLike is ISSUE 11's filter (a SQL LIKE pattern, % wildcards as Camunda's *Like
// parameters); a server without it ignores the unknown property (decision A6), which the failed
// jobs page notices and says.
export function likePattern(text) {
  return text.includes("%") ? text : `%${text}%`;
}

export function jobQueryOf(filters) {
  const query = { noRetriesLeft: true };
  if (filters.message) query.exceptionMessageLike = likePattern(filters.message);
  if (filters.activity) query.activityId = filters.activity;
  if (filters.tenant) query.tenantIdIn = [filters.tenant];
  if (filters.key) query.processDefinitionKey = filters.key;
  const times = [];
  if (filters.after) times.push({ operator: "gt", value: wireDate(filters.after) });
  if (filters.before) times.push({ operator: "lt", value: wireDate(filters.before) });
  if (times.length) query.createTimes = times;
  return query;
}

export function describeFilters(filters) {
  const parts = [];
  if (filters.message) parts.push(`message contains "${filters.message}"`);
  if (filters.activity) parts.push(`activity ${filters.activity}`);
  if (filters.tenant) parts.push(`tenant ${filters.tenant}`);
  if (filters.key) parts.push(`process definition key ${filters.key}`);
  if (filters.after) parts.push(`created after ${filters.after.replace("T", " ")}`);
  if (filters.before) parts.push(`created before ${filters.before.replace("T", " ")}`);
  return parts.length ? `failed jobs (no retries left) with ${parts.join(", ")}` : "all failed jobs (no retries left)";
}

// A group of a preview breakdown as an extra condition of the job query.
export function groupCondition(breakdown, value) {
  switch (breakdown) {
    case "byExceptionMessage": return value === null ? { withException: false } : { exceptionMessage: value };
    case "byActivityId": return { activityId: value };
    case "byJobDefinitionId": return { jobDefinitionId: value };
    case "byTenantId": return value === null ? { withoutTenantId: true } : { tenantIdIn: [value] };
    default: return {};
  }
}

export function reviveUrl(consoleBase, jobQuery, label) {
  const params = new URLSearchParams({ query: JSON.stringify(jobQuery), label });
  return `${consoleBase}revive?${params}`;
}

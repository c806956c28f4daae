// Jobs: Camunda's job resource (present on every server).
import { REST, request } from "./client.js";

export const PAGE_SIZE = 50;

export function queryJobs(jobQuery, firstResult = 0, maxResults = PAGE_SIZE) {
  return request("POST", `${REST}/job`, { json: { ...jobQuery, sorting: [{ sortBy: "jobId", sortOrder: "asc" }] },
    params: { firstResult, maxResults } });
}

export async function countJobs(jobQuery) {
  return (await request("POST", `${REST}/job/count`, { json: jobQuery })).count;
}

export function getJob(jobId) {
  return request("GET", `${REST}/job/${encodeURIComponent(jobId)}`);
}

export function getStacktrace(jobId) {
  return request("GET", `${REST}/job/${encodeURIComponent(jobId)}/stacktrace`, { text: true });
}

// POST /job/retries (Set Job Retries Async): answers the batch.
export function setRetriesAsync(body) {
  return request("POST", `${REST}/job/retries`, { json: body });
}

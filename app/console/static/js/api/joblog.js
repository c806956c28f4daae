// ISSUE 11: GET /history/job-log?jobId=..., Camunda's HistoricJobLogDto list. A server without
// it answers 404 for the route: jobLog() then resolves to null.
import { REST, request } from "./client.js";

export const NOT_AVAILABLE = "The job log is not available on this server (GET /history/job-log answers 404).";

export async function jobLog(jobId) {
  try {
    return await request("GET", `${REST}/history/job-log`, {
      params: { jobId, sortBy: "timestamp", sortOrder: "asc" } });
  } catch (error) {
    if (error.endpointMissing) return null;
    throw error;
  }
}

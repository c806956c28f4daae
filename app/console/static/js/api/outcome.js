// ISSUE 11: GET /history/batch/{id}/outcome, the outcome of a set-retries batch:
// {elements, updated, skipped, succeeded, failedAgain, pending, newFailures} with newFailures a
// list of {value, count} (message and how many jobs failed with it; {message, count} is read
// too). A server without it answers 404 for the route: outcome() then resolves to null.
import { REST, request } from "./client.js";

export const NOT_AVAILABLE = "The batch outcome is not available on this server (GET /history/batch/{id}/outcome answers 404).";

export async function outcome(batchId) {
  try {
    return await request("GET", `${REST}/history/batch/${encodeURIComponent(batchId)}/outcome`);
  } catch (error) {
    if (error.endpointMissing) return null;
    throw error;
  }
}

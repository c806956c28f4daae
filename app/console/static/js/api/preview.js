// ISSUE 11: POST /job/retries/preview (same body as POST /job/retries). Answers
// {count, missingJobIds, byExceptionMessage, byActivityId, byJobDefinitionId, byTenantId,
// sampleJobIds}, each breakdown a list of {value, count}. A server without it answers 404:
// preview() then resolves to null and the pages say so instead of breaking.
import { REST, request } from "./client.js";

export const NOT_AVAILABLE = "Preview is not available on this server (POST /job/retries/preview answers 404).";

export const BREAKDOWNS = [
  ["byExceptionMessage", "Exception message"],
  ["byActivityId", "Activity"],
  ["byJobDefinitionId", "Job definition"],
  ["byTenantId", "Tenant"],
];

export async function preview(body) {
  try {
    return await request("POST", `${REST}/job/retries/preview`, { json: body });
  } catch (error) {
    if (error.endpointMissing) return null;
    throw error;
  }
}

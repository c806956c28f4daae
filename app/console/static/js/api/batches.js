// Batches: Camunda's batch and historic batch resources (present on every server).
import { REST, request } from "./client.js";

export function runningBatches() {
  return request("GET", `${REST}/batch/statistics`, { params: { sortBy: "batchId", sortOrder: "asc" } });
}

export async function batchStatistics(batchId) {
  const list = await request("GET", `${REST}/batch/statistics`, { params: { batchId } });
  return list.length ? list[0] : null;
}

export async function historicBatch(batchId) {
  try {
    return await request("GET", `${REST}/history/batch/${encodeURIComponent(batchId)}`);
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

export function historicBatches(maxResults = 50) {
  return request("GET", `${REST}/history/batch`, {
    params: { sortBy: "startTime", sortOrder: "desc", firstResult: 0, maxResults } });
}

export function setSuspended(batchId, suspended) {
  return request("PUT", `${REST}/batch/${encodeURIComponent(batchId)}/suspended`, { json: { suspended } });
}

export function deleteBatch(batchId) {
  return request("DELETE", `${REST}/batch/${encodeURIComponent(batchId)}`);
}

// GET /api/workers: our extension (decision A23), the executor's registered workers.
import { API, request } from "./client.js";

export function workers() {
  return request("GET", `${API}/workers`);
}

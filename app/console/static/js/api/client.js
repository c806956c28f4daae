// The one place that talks HTTP: base paths from the page, the operator's Basic credentials from
// sessionStorage, Camunda's error JSON turned into an ApiError whose message can be shown as is.
const body = document.body.dataset;
export const REST = body.rest;
export const API = body.api;
export const CONSOLE = body.console;
export const AUTH_ON = body.auth === "on";
const KEY = "jobservice.console.credentials";
let leaving = false; // a 401 has sent the browser to the login page

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
  // The route does not exist on this server (Flask's 404 for an unknown URL), as opposed to a
  // 404 about a job or batch that does not exist.
  get endpointMissing() {
    return this.status === 404 && this.message.startsWith("No resource at");
  }
}

export function credentials() {
  const stored = sessionStorage.getItem(KEY);
  return stored ? JSON.parse(stored) : null;
}

export function basicToken(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return "Basic " + btoa(String.fromCharCode(...bytes));
}

export function storeCredentials(user, password) {
  sessionStorage.setItem(KEY, JSON.stringify({ user, token: basicToken(user, password) }));
}

export function forgetCredentials() {
  sessionStorage.removeItem(KEY);
}

export function loginUrl(reason) {
  const next = location.pathname + location.search + location.hash;
  const params = new URLSearchParams({ next });
  if (reason) params.set("reason", reason);
  return `${CONSOLE}login?${params}`;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// request("POST", REST + "/job", {json: {...}, params: {firstResult: 0}}) -> parsed JSON, text or null
export async function request(method, url, { json, params, text = false, token } = {}) {
  const headers = { Accept: text ? "text/plain, application/json" : "application/json" };
  const auth = token || credentials()?.token;
  if (auth) headers.Authorization = auth;
  const init = { method, headers, credentials: "omit" };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(url + query(params), init);
  } catch (error) {
    throw new ApiError(0, "NetworkError", "The server could not be reached; check that it is running and try again.");
  }
  if (response.status === 401 && !token) {
    // Several calls of a page may be refused at once: the first one decides where to go.
    if (!leaving) {
      leaving = true;
      const hadCredentials = credentials() !== null;
      forgetCredentials();
      location.assign(loginUrl(hadCredentials ? "expired" : "login"));
    }
    throw new ApiError(401, "AuthenticationRequired", "Log in to continue.");
  }
  if (response.status === 204) return null;
  const raw = await response.text();
  if (!response.ok) {
    let type = "RestException";
    let message = `The server answered ${response.status} ${response.statusText}.`;
    try {
      const error = JSON.parse(raw);
      if (error && error.message) ({ type, message } = { type: error.type || type, message: error.message });
    } catch (ignored) { /* not JSON: keep the status line */ }
    throw new ApiError(response.status, type, message);
  }
  if (text) return raw;
  return raw ? JSON.parse(raw) : null;
}

// Shared page helpers: elements, text, the header (who is logged in, log out), errors as sentences.
import { AUTH_ON, CONSOLE, credentials, forgetCredentials, loginUrl } from "./api/client.js";

export const $ = (selector) => document.querySelector(selector);

// el("td", {class: "x"}, "text", child...) -- text is always set as text, never as HTML.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function show(selector, text) {
  const node = typeof selector === "string" ? $(selector) : selector;
  if (text !== undefined) node.textContent = text;
  node.hidden = false;
  return node;
}

export function hide(selector) {
  const node = typeof selector === "string" ? $(selector) : selector;
  node.hidden = true;
  return node;
}

// An error as a sentence (ApiError messages are the server's; anything else is a bug of ours).
export function describe(error) {
  if (error && error.status !== undefined) return error.message;
  console.error("console bug:", error); // the browser tests fail on this line in the log
  return "Something went wrong in the console page; reload it to try again.";
}

export function showError(error, selector = "#page-error") {
  show(selector, describe(error));
}

export function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

// "2026-12-02T10:00" from a datetime-local input -> Camunda's "2026-12-02T10:00:00.000+0100"
export function wireDate(localValue) {
  if (!localValue) return null;
  const date = new Date(localValue);
  if (Number.isNaN(date.getTime())) return null;
  const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:`
    + `${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
    + `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
}

export function consoleUrl(path) {
  return CONSOLE + path;
}

// Every page but the login page: with authentication on and no credentials, go log in first.
export function requireLogin() {
  const who = credentials();
  if (AUTH_ON && !who) {
    location.replace(loginUrl("login"));
    return false;
  }
  if (who) {
    show("#who", `Logged in as ${who.user}`);
    const button = show("#logout");
    button.addEventListener("click", () => {
      forgetCredentials();
      location.assign(loginUrl("logged-out"));
    });
  } else {
    show("#who", "Authentication is off");
  }
  return true;
}

export function poll(task, intervalMs) {
  let stopped = false;
  const loop = async () => {
    if (stopped) return;
    const again = await task();
    if (again !== false && !stopped) setTimeout(loop, intervalMs);
  };
  loop();
  return () => { stopped = true; };
}

import { AUTH_ON, CONSOLE, storeCredentials } from "../api/client.js";
import { verify } from "../api/identity.js";
import { $, describe, hide, show } from "../ui.js";

const params = new URLSearchParams(location.search);
if (params.get("reason") === "logged-out") show("#logged-out");
if (params.get("reason") === "expired") show("#logged-out", "Your login is no longer valid; log in again.");
if (!AUTH_ON) {
  show("#auth-off");
  hide("#login-form");
}

function safeNext() {
  const next = params.get("next") || "";
  // Only a console page of this server: never an absolute URL someone put in the link.
  return next.startsWith(CONSOLE) && !next.startsWith("//") ? next : `${CONSOLE}failed-jobs`;
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  hide("#login-error");
  const user = $("#username").value.trim();
  const password = $("#password").value;
  const button = $("#login-form button");
  button.disabled = true;
  try {
    if (await verify(user, password)) {
      storeCredentials(user, password);
      location.assign(safeNext());
      return;
    }
    show("#login-error", "The user name or password is not valid.");
  } catch (error) {
    show("#login-error", error.status === 401 ? "The user name or password is not valid." : describe(error));
  } finally {
    button.disabled = false;
  }
});

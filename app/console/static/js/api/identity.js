// Logging in: any authenticated request proves the credentials; POST /identity/verify is
// Camunda's own check of a user name and password.
import { REST, basicToken, request } from "./client.js";

export async function verify(user, password) {
  const answer = await request("POST", `${REST}/identity/verify`,
    { json: { username: user, password }, token: basicToken(user, password) });
  return answer.authenticated === true;
}

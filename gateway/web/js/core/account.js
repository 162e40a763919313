// Signing in and choosing the profile to act as: the API calls that change the session.
import { api, itemsOf } from "./api.js";
import { session } from "./session.js";

/** Dev mode: a token from POST /api/v1/auth/dev-token for the given identity. */
export async function signIn({ sub, tenant, roles = ["member"], label = null, actor_id = null }) {
  const answer = await api("/auth/dev-token", { method: "POST", auth: false, body: { sub, tenant, roles } });
  session.begin({ token: answer.access_token, sub, tenant, roles, label, actorId: actor_id,
    expiresAt: answer.expires_in ? Date.now() + answer.expires_in * 1000 : null });
  return session;
}

/**
 * The profile the session acts as (and names in the header) no longer exists, or may not:
 * `gone` is an actor id just closed or deleted, or null to check the stored one against
 * GET /me/actors (on start). The session then acts as the first remaining profile (a person
 * profile first), or as the account itself when none is left. Errors leave it as it is.
 */
export async function forgetActor(gone = null) {
  if (!session.signedIn || !session.actorId || (gone && gone !== session.actorId)) return;
  const token = session.token;
  let actors;
  try { actors = itemsOf(await api("/me/actors")); } catch { return; }
  if (session.token !== token || !session.actorId) return;
  const remaining = actors.filter((actor) => actor && actor.id !== gone);
  if (!gone && remaining.some((actor) => actor.id === session.actorId)) return;
  session.actAs(remaining.find((actor) => actor.type === "person") || remaining[0] || null);
}

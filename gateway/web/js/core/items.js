// What pages share about offers and needs: paths, own items, own actors.
import { api, itemsOf } from "./api.js";

export const KINDS = ["offer", "need"];
export const plural = (kind) => `${kind}s`;
export const other = (kind) => (kind === "offer" ? "need" : "offer");
export const kindFromPath = (path) => (path.startsWith("#/offers") ? "offer" : "need");

/** The caller's own items of one kind (all statuses), newest first as the API lists them. */
export async function ownItems(kind, { status, signal } = {}) {
  return itemsOf(await api(`/${plural(kind)}`, { query: { status, limit: 200 }, signal }));
}

/** The caller's own actors (persons and organisations). */
export async function ownActors({ signal } = {}) {
  return itemsOf(await api("/me/actors", { signal }));
}

export function isOwner(session, actor, item) {
  if (!session.signedIn) return false;
  if (actor && Array.isArray(actor.owners) && actor.owners.includes(session.sub)) return true;
  return Boolean(item && session.actorId && item.actor_id === session.actorId);
}

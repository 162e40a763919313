// Who is signed in: the token and the identity it stands for, kept in localStorage.
import { api, itemsOf } from "./api.js";
import { label as localized } from "./i18n.js";

const STORAGE_KEY = "engage.session";
const listeners = new Set();

function load() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    if (stored && stored.token && (!stored.expiresAt || stored.expiresAt > Date.now())) return stored;
  } catch { /* a broken entry counts as signed out */ }
  return null;
}

let state = load();

function changed(extra = {}) {
  if (state) localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
  else localStorage.removeItem(STORAGE_KEY);
  listeners.forEach((listener) => listener(state, extra));
}

export const session = {
  get token() { return state ? state.token : null; },
  get sub() { return state ? state.sub : null; },
  get tenant() { return state ? state.tenant : null; },
  get roles() { return state ? [...state.roles] : []; },
  /** The display name in the current language (the persona's label, else the sub). */
  get label() { return state ? (localized(state.label) || state.sub) : ""; },
  get actorId() { return state ? state.actorId : null; },
  get signedIn() { return Boolean(state); },
  hasRole(role) { return Boolean(state && state.roles.includes(role)); },

  /** Dev mode: a token from POST /api/v1/auth/dev-token for the given identity. */
  async signIn({ sub, tenant, roles = ["member"], label = null, actor_id = null }) {
    const answer = await api("/auth/dev-token", { method: "POST", auth: false, body: { sub, tenant, roles } });
    state = { token: answer.access_token, sub, tenant, roles: [...roles], label, actorId: actor_id,
      expiresAt: answer.expires_in ? Date.now() + answer.expires_in * 1000 : null };
    changed();
    return session;
  },

  /**
   * The profile the session acts as (and names in the header) no longer exists, or may not:
   * `gone` is an actor id just closed or deleted, or null to check the stored one against
   * GET /me/actors (on start). The session then acts as the first remaining profile (a person
   * profile first), or as the account itself when none is left. Errors leave it as it is.
   */
  async forgetActor(gone = null) {
    if (!state || !state.actorId || (gone && gone !== state.actorId)) return;
    const token = state.token;
    let actors;
    try { actors = itemsOf(await api("/me/actors")); } catch { return; }
    if (!state || state.token !== token || !state.actorId) return;
    const remaining = actors.filter((actor) => actor && actor.id !== gone);
    if (!gone && remaining.some((actor) => actor.id === state.actorId)) return;
    const next = remaining.find((actor) => actor.type === "person") || remaining[0] || null;
    state = { ...state, actorId: next ? next.id : null, label: next ? next.name : null };
    changed({ actor: true });
  },

  signOut({ expired = false } = {}) {
    if (!state) return;
    state = null;
    changed({ expired });
  },

  onChange(listener) { listeners.add(listener); return () => listeners.delete(listener); },
};

export const signIn = (identity) => session.signIn(identity);
export const signOut = () => session.signOut();
export const hasRole = (role) => session.hasRole(role);

// Another tab signed in or out.
window.addEventListener("storage", (event) => {
  if (event.key !== STORAGE_KEY) return;
  state = load();
  listeners.forEach((listener) => listener(state));
});

// Who is signed in: the token and the identity it stands for, kept in localStorage.
// Only the state: what asks the API to change it lives in account.js (api.js reads the token
// from here, so this module must not import api.js).
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

  /** Begins a session for a token and the identity it stands for (see account.js). */
  begin({ token, sub, tenant, roles, label = null, actorId = null, expiresAt = null }) {
    state = { token, sub, tenant, roles: [...roles], label, actorId, expiresAt };
    changed();
  },

  /** Acts as another profile (an actor {id, name}), or as the account itself (null). */
  actAs(actor) {
    if (!state) return;
    state = { ...state, actorId: actor ? actor.id : null, label: actor ? actor.name : null };
    changed({ actor: true });
  },

  signOut({ expired = false } = {}) {
    if (!state) return;
    state = null;
    changed({ expired });
  },

  onChange(listener) { listeners.add(listener); return () => listeners.delete(listener); },
};

export const signOut = () => session.signOut();
export const hasRole = (role) => session.hasRole(role);

// Another tab signed in or out.
window.addEventListener("storage", (event) => {
  if (event.key !== STORAGE_KEY) return;
  state = load();
  listeners.forEach((listener) => listener(state));
});

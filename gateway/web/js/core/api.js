// The one way to call the public API (/api/v1): JSON in, JSON out, errors as ApiError.
import { lang } from "./i18n.js";
import { session } from "./session.js";

export const API_PREFIX = "/api/v1";

export class ApiError extends Error {
  /** status 0 means the server could not be reached. */
  constructor({ status, code, message, details }) {
    super(message || code || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code || "unknown";
    this.details = normaliseDetails(details);
    this.raw = details;
  }
}

function normaliseDetails(details) {
  if (!Array.isArray(details)) return [];
  return details.filter((d) => d && typeof d === "object")
    .map((d) => ({ field: String(d.field ?? (Array.isArray(d.path) ? d.path.join(".") : "")),
      message: String(d.message ?? ""), type: d.type }));
}

function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(name, String(v)));
    else params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * `api("/offers", {method: "POST", body: {...}})` → the parsed JSON answer (null for an empty one).
 * `auth` (default true) sends the session's token. A 401 while signed in signs out.
 */
export async function api(path, { method = "GET", body, query, auth = true, headers = {}, signal } = {}) {
  const sent = { Accept: "application/json", "Accept-Language": lang(), ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  const token = auth ? session.token : null;
  if (token) sent.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`${API_PREFIX}${path}${queryString(query)}`, {
      method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError({ status: 0, code: "network", message: String(error && error.message) });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    if (response.status === 401 && token) session.signOut({ expired: true });
    const error = (data && data.error) || {};
    throw new ApiError({ status: response.status, code: error.code || `http_${response.status}`,
      message: error.message || response.statusText, details: error.details });
  }
  return data;
}

/** The `items` of a list answer, whether it is `{items: [...]}` or a bare array. */
export function itemsOf(answer) {
  if (Array.isArray(answer)) return answer;
  return (answer && Array.isArray(answer.items)) ? answer.items : [];
}

/** A binary answer (e.g. a PDF) as a Blob, with the session's token; errors as in `api`. */
export async function apiBlob(path, { query, signal } = {}) {
  const sent = { "Accept-Language": lang() };
  const token = session.token;
  if (token) sent.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`${API_PREFIX}${path}${queryString(query)}`, { headers: sent, signal });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError({ status: 0, code: "network", message: String(error && error.message) });
  }
  if (!response.ok) {
    let data = null;
    try { data = JSON.parse(await response.text()); } catch { data = null; }
    if (response.status === 401 && token) session.signOut({ expired: true });
    const error = (data && data.error) || {};
    throw new ApiError({ status: response.status, code: error.code || `http_${response.status}`,
      message: error.message || response.statusText, details: error.details });
  }
  return response.blob();
}

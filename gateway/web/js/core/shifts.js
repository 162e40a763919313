// What the shift pages share (item page "Termine", #/me/engagements, #/me/hours): texts, Berlin
// times for the API, the words for a sign-up's status, the person profile that signs up.
import { html, nothing } from "/static/vendor/lit-html/lit-html.js";
import { detailText, errorText, registerTexts, t } from "./i18n.js";
import { ownActors } from "./items.js";

registerTexts({
  de: {
    sh_status_confirmed: "Angemeldet", sh_status_waitlisted: "Warteliste Platz {n}",
    sh_status_waitlisted_plain: "Warteliste", sh_status_cancelled: "Abgemeldet",
    sh_status_removed: "Von der Organisation entfernt", sh_status_promoted: "Angemeldet (von der Warteliste nachgerückt)",
    sh_reason: "Grund: {reason}", sh_shift_cancelled: "Abgesagt", sh_shift_called_off: "Termin abgesagt", sh_past: "vergangen",
    sh_places: "{left} von {places} Plätzen frei", sh_full: "ausgebucht: alle {places} Plätze vergeben",
    sh_waitlisted_count: "{n} auf der Warteliste",
    sh_after_contact: "Anmeldung erst nach einer angenommenen Kontaktanfrage",
    sh_cutoff: "Abmelden bis {hours} Stunden vor Beginn",
    sh_hours_value: "{hours} Stunden",
    "error.already_signed_up": "Sie sind für diesen Termin schon angemeldet.",
    "error.contact_required": "Für diesen Termin können Sie sich erst anmelden, wenn die Organisation Ihre Kontaktanfrage angenommen hat.",
    "error.cancel_cutoff": "Die Frist zum Abmelden ist vorbei.",
    "error.shift_cancelled": "Der Termin ist abgesagt und kann nicht mehr geändert werden.",
  },
  en: {
    sh_status_confirmed: "Signed up", sh_status_waitlisted: "Waiting list, place {n}",
    sh_status_waitlisted_plain: "Waiting list", sh_status_cancelled: "Cancelled",
    sh_status_removed: "Removed by the organisation", sh_status_promoted: "Signed up (moved up from the waiting list)",
    sh_reason: "Reason: {reason}", sh_shift_cancelled: "Cancelled", sh_shift_called_off: "Date cancelled", sh_past: "past",
    sh_places: "{left} of {places} places free", sh_full: "fully booked: all {places} places taken",
    sh_waitlisted_count: "{n} on the waiting list",
    sh_after_contact: "Sign-up only after an accepted contact request",
    sh_cutoff: "Cancel up to {hours} hours before the start",
    sh_hours_value: "{hours} hours",
    "error.already_signed_up": "You are already signed up for this date.",
    "error.contact_required": "You can sign up for this date once the organisation has accepted your contact request.",
    "error.cancel_cutoff": "The deadline for cancelling has passed.",
    "error.shift_cancelled": "The date is cancelled and can no longer be changed.",
  },
});

export const TIME_ZONE = "Europe/Berlin";
export const ACTIVE = ["confirmed", "waitlisted"];
const SHIFT_CANCELLED = "shift cancelled"; // the reason of sign-ups cancelled with their shift

/** Minutes Berlin is ahead of UTC at the instant `utcMs`. */
function berlinOffset(utcMs) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(utcMs)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day),
    Number(parts.hour), Number(parts.minute));
  return Math.round((asUtc - Math.floor(utcMs / 60000) * 60000) / 60000);
}

/** "2027-03-28" + "10:00" (Berlin wall time) → "2027-03-28T10:00:00+02:00"; "" when incomplete. */
export function berlinIso(date, time) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date || "") || !/^\d{2}:\d{2}$/.test(time || "")) return "";
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let offset = berlinOffset(wall - 60 * 60000);
  offset = berlinOffset(wall - offset * 60000);
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date}T${time}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The Berlin calendar day of an instant: "2027-03-28". */
export function berlinDay(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat("sv-SE", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit",
    day: "2-digit" }).format(date);
}

/**
 * The Berlin days a shift touches, from its start to its end ("2027-03-27", "2027-03-28" for a
 * night from Saturday to Sunday); an end at midnight does not touch the next day.
 */
export function daysOf(shift) {
  const first = berlinDay(shift.start);
  if (!first) return [];
  const endMs = new Date(shift.end).getTime();
  const last = Number.isNaN(endMs) ? first : berlinDay(endMs - 1);
  const days = [first];
  // Dates as UTC noon: adding a day never trips over a daylight-saving change.
  const next = new Date(`${first}T12:00:00Z`);
  while (days.length < 31 && days[days.length - 1] < last) {
    next.setUTCDate(next.getUTCDate() + 1);
    days.push(next.toISOString().slice(0, 10));
  }
  return days;
}

/** "Angemeldet", "Warteliste Platz 2", "Abgemeldet" … for a SignupView. */
export function signupStatus(signup) {
  if (!signup) return "";
  if (signup.status === "waitlisted") {
    return signup.waitlist_position ? t("sh_status_waitlisted", { n: signup.waitlist_position })
      : t("sh_status_waitlisted_plain");
  }
  const key = `sh_status_${signup.status}`;
  const text = t(key);
  return text === key ? signup.status : text;
}

/** Cancelled with its shift (the organisation called the date off), not by the person. */
export const shiftWasCancelled = (signup) => Boolean(signup && signup.status === "cancelled" && signup.reason === SHIFT_CANCELLED);

export function statusBadge(signup) {
  const status = signup && signup.status;
  if (shiftWasCancelled(signup)) return html`<span class="badge signup-cancelled">${t("sh_shift_called_off")}</span>`;
  return html`<span class=${`badge signup-${status}`}>${signupStatus(signup)}</span>${signup && signup.reason
    && ["cancelled", "removed"].includes(status) ? html` <span class="meta">${t("sh_reason", { reason: signup.reason })}</span>` : nothing}`;
}

export const hasStarted = (shift) => Boolean(shift && shift.start && new Date(shift.start).getTime() <= Date.now());

/** Hours of a shift (end - start), rounded to a quarter hour. */
export function shiftHours(shift) {
  const ms = new Date(shift.end).getTime() - new Date(shift.start).getTime();
  if (!(ms > 0)) return 1;
  return Math.round((ms / 3600000) * 4) / 4;
}

/**
 * The person profile that signs up: the profile acted as when it is a person, else the first own
 * person profile; null without one.
 */
export async function personActor(session, { signal } = {}) {
  const persons = (await ownActors({ signal })).filter((actor) => actor.type === "person");
  return persons.find((actor) => actor.id === session.actorId) || persons[0] || null;
}

/** An error of an action without a form: the field problems' words when it is a validation error. */
export function problemText(error) {
  if (error && error.code === "validation_error" && Array.isArray(error.details) && error.details.length) {
    return error.details.map(detailText).join(" ");
  }
  return errorText(error);
}

/** Saves a Blob under `file` (a hidden link with `download`). */
export function saveBlob(blob, file) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = file;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

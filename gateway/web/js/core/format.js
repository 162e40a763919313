// Dates, numbers and distances in the current language.
import { lang, t } from "./i18n.js";

const locale = () => (lang() === "en" ? "en-GB" : "de-DE");
const TIME_ZONE = "Europe/Berlin";

export function formatNumber(value, digits = 1) {
  if (value == null || Number.isNaN(Number(value))) return "";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(Number(value));
}

/** "3,2 km" / "3.2 km"; under 1 km in metres rounded to 100 m. */
export function formatKm(value) {
  if (value == null) return "";
  const km = Number(value);
  if (km < 1) return `${new Intl.NumberFormat(locale()).format(Math.max(100, Math.round(km * 10) * 100))} m`;
  return `${formatNumber(km, km < 10 ? 1 : 0)} km`;
}

export function formatDistance(value) {
  return value == null ? "" : t("km_away", { km: formatKm(value) });
}

export function formatDate(value, { time = false } = {}) {
  if (!value) return "";
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const options = { dateStyle: "medium", timeZone: TIME_ZONE };
  if (time) options.timeStyle = "short";
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

export function formatDateTime(value) { return formatDate(value, { time: true }); }

/** A date window: "12. März 2027, 10:00 – 14:00" or across days with both dates. */
export function formatRange(start, end) {
  const from = new Date(start);
  const to = new Date(end);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return "";
  const day = (d) => new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeZone: TIME_ZONE }).format(d);
  const clock = (d) => new Intl.DateTimeFormat(locale(), { timeStyle: "short", timeZone: TIME_ZONE }).format(d);
  if (day(from) === day(to)) return `${day(from)}, ${clock(from)} – ${clock(to)}`;
  return `${day(from)}, ${clock(from)} – ${day(to)}, ${clock(to)}`;
}

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** "Montag" / "Monday" for "mon" (a Monday in 2024 as reference). */
export function weekdayName(day, style = "long") {
  const index = WEEKDAYS.indexOf(day);
  if (index < 0) return day;
  const reference = new Date(Date.UTC(2024, 0, 1 + index, 12));
  return new Intl.DateTimeFormat(locale(), { weekday: style, timeZone: "UTC" }).format(reference);
}

/** "de" → "Deutsch" / "German"; "dgs" is German Sign Language. */
export function languageName(code) {
  if (code === "dgs") return lang() === "en" ? "German Sign Language" : "Deutsche Gebärdensprache";
  try {
    return new Intl.DisplayNames([locale()], { type: "language" }).of(code) || code;
  } catch { return code; }
}

/** A Date as the value of <input type="datetime-local"> in Berlin time. */
export function toLocalInput(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", hourCycle: "h23" }).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

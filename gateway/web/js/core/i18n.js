// Texts in German and English: every page registers its own (`TEXTS`), `t(key, vars)` reads them.
const STORAGE_KEY = "lang";
export const LANGUAGES = ["de", "en"];
const texts = { de: {}, en: {} };
const listeners = new Set();
let current = LANGUAGES.includes(localStorage.getItem(STORAGE_KEY))
  ? localStorage.getItem(STORAGE_KEY) : "de";

export function registerTexts(bundle) {
  for (const language of LANGUAGES) Object.assign(texts[language], (bundle && bundle[language]) || {});
}

export function lang() { return current; }

export function setLang(language) {
  if (!LANGUAGES.includes(language) || language === current) return;
  current = language;
  localStorage.setItem(STORAGE_KEY, language);
  document.documentElement.lang = language;
  listeners.forEach((listener) => listener(language));
}

export function onLangChange(listener) { listeners.add(listener); return () => listeners.delete(listener); }

/** The text for `key` in the current language; `{name}` placeholders are filled from `vars`. */
export function t(key, vars) {
  let text = texts[current][key] ?? texts.de[key];
  if (text === undefined) {
    console.warn(`i18n: no text for "${key}"`);
    return key;
  }
  if (vars) text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  return text;
}

/** A `{de, en}` label (vocabularies, branding) in the current language. */
export function label(value) {
  if (value == null) return "";
  if (typeof value === "string") return value;
  return value[current] || value.de || value.en || "";
}

// ---- texts shared by the shell and every page ---------------------------------------------------
registerTexts({
  de: {
    app_name: "Engagement-Plattform",
    skip_link: "Zum Inhalt springen",
    nav_label: "Hauptnavigation", footer_nav: "Rechtliches",
    nav_search: "Suchen", nav_post: "Eintragen", nav_my: "Meine Einträge", nav_engagements: "Meine Einsätze", nav_contacts: "Kontakte",
    nav_inbox: "Posteingang", nav_admin: "Verwaltung",
    municipality: "Kommune", sign_in: "Anmelden", sign_out: "Abmelden", signed_in_as: "Angemeldet als {name}",
    other_language: "English", other_language_code: "EN",
    loading: "Lädt …", retry: "Erneut versuchen", cancel: "Abbrechen", save: "Speichern", back: "Zurück",
    error_title: "Es ist ein Fehler aufgetreten",
    errors_summary: "Bitte korrigieren Sie {count} Angabe(n):", errors_summary_one: "Bitte korrigieren Sie diese Angabe:",
    need_sign_in: "Bitte melden Sie sich zuerst an.", go_sign_in: "Zur Anmeldung",
    offer: "Angebot", need: "Gesuch", actor: "Akteur", offers: "Angebote", needs: "Gesuche", actors: "Akteure",
    km_away: "{km} entfernt", remote_possible: "auch aus der Ferne möglich",
    status_published: "veröffentlicht", status_closed: "geschlossen", status_expired: "abgelaufen",
    status_hidden: "ausgeblendet", status_paused: "pausiert",
    // API error codes
    "error.validation_error": "Einige Angaben sind nicht gültig.",
    "error.malformed_json": "Die Anfrage war fehlerhaft.",
    "error.unauthorized": "Bitte melden Sie sich an.",
    "error.invalid_token": "Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an.",
    "error.forbidden": "Dafür fehlt Ihnen die Berechtigung.",
    "error.not_found": "Das wurde nicht gefunden.",
    "error.conflict": "Das steht im Widerspruch zum aktuellen Stand.",
    "error.concurrent_change": "Jemand hat das inzwischen geändert. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
    "error.version_conflict": "Jemand hat das inzwischen geändert. Laden Sie den aktuellen Stand und versuchen Sie es erneut.",
    "error.contact_exists": "Für dieses Paar gibt es schon eine Kontaktanfrage.",
    "error.contact_not_open": "Diese Kontaktanfrage ist bereits beantwortet.",
    "error.item_not_open": "Das Angebot oder Gesuch ist nicht mehr offen.",
    "error.invalid_transition": "Dieser Statuswechsel ist nicht möglich.",
    "error.last_owner": "Das letzte Mitglied mit Verwaltungsrechten kann nicht entfernt werden.",
    "error.not_an_organisation": "Das geht nur für Organisationen, nicht für Privatpersonen.",
    "error.not_a_match": "Dieses Angebot und dieses Gesuch passen laut Vorschlägen nicht zusammen.",
    "error.rate_limited": "Zu viele Anfragen. Bitte warten Sie einen Moment.",
    "error.payload_too_large": "Die Angaben sind zu umfangreich.",
    "error.service_unavailable": "Ein Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
    "error.upstream_unavailable": "Ein Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
    "error.search_unavailable": "Die Suche ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
    "error.busy": "Der Dienst ist ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
    "error.invalid_cursor": "Die Trefferliste ist veraltet. Bitte suchen Sie erneut.",
    "error.network": "Keine Verbindung zum Server.",
    "error.unknown": "Unerwarteter Fehler ({status}).",
    // field problems (pydantic types)
    "field.missing": "Bitte ausfüllen.",
    "field.too_short": "Mindestens {n} Zeichen.",
    "field.too_long": "Höchstens {n} Zeichen.",
    "field.list_too_short": "Bitte mindestens {n} auswählen.",
    "field.list_too_long": "Höchstens {n} Einträge.",
    "field.min": "Mindestens {n}.",
    "field.max": "Höchstens {n}.",
    "field.gt": "Muss größer als {n} sein.",
    "field.blank": "Darf nicht leer sein.",
    "field.email": "Keine gültige E-Mail-Adresse.",
    "field.after_start": "Das Ende muss nach dem Beginn liegen.",
    "field.time": "Bitte eine Uhrzeit zwischen 00:00 und 23:59 angeben.",
    "field.url": "Bitte eine http(s)-Adresse angeben.",
    "field.color": "Bitte eine Farbe wie #1a2b3c angeben.",
    "field.invalid": "Ungültiger Wert.",
    "field.number": "Bitte eine Zahl angeben.",
    "field.future": "Muss in der Zukunft liegen.",
    "field.shift_length": "Ein Termin dauert höchstens 24 Stunden.",
    "field.places_confirmed": "Bereits angemeldet: {n}. Weniger Plätze sind nicht möglich.",
    "field.more_than_zero": "Muss mehr als 0 sein.",
    "field.reason": "Bitte geben Sie einen Grund an.",
    "field.shift_cancelled": "Der Termin ist abgesagt.",
    "field.shift_over": "Der Termin hat schon begonnen oder ist vorbei.",
    "field.hours_too_early": "Stunden können erst ab Beginn des Termins eingetragen werden.",
    "field.hours_too_many": "Mehr Stunden, als der Termin dauert.",
  },
  en: {
    app_name: "Engagement platform",
    skip_link: "Skip to content",
    nav_label: "Main navigation", footer_nav: "Legal",
    nav_search: "Search", nav_post: "Post", nav_my: "My entries", nav_engagements: "My engagements", nav_contacts: "Contacts",
    nav_inbox: "Inbox", nav_admin: "Administration",
    municipality: "Municipality", sign_in: "Sign in", sign_out: "Sign out", signed_in_as: "Signed in as {name}",
    other_language: "Deutsch", other_language_code: "DE",
    loading: "Loading …", retry: "Try again", cancel: "Cancel", save: "Save", back: "Back",
    error_title: "Something went wrong",
    errors_summary: "Please correct {count} entries:", errors_summary_one: "Please correct this entry:",
    need_sign_in: "Please sign in first.", go_sign_in: "Go to sign-in",
    offer: "Offer", need: "Need", actor: "Actor", offers: "Offers", needs: "Needs", actors: "Actors",
    km_away: "{km} away", remote_possible: "remote possible",
    status_published: "published", status_closed: "closed", status_expired: "expired",
    status_hidden: "hidden", status_paused: "paused",
    "error.validation_error": "Some entries are not valid.",
    "error.malformed_json": "The request was malformed.",
    "error.unauthorized": "Please sign in.",
    "error.invalid_token": "Your sign-in has expired. Please sign in again.",
    "error.forbidden": "You are not allowed to do this.",
    "error.not_found": "This was not found.",
    "error.conflict": "This conflicts with the current state.",
    "error.concurrent_change": "Someone changed this in the meantime. Please reload the page and try again.",
    "error.version_conflict": "Someone changed this in the meantime. Load the current state and try again.",
    "error.contact_exists": "A contact request for this pair exists already.",
    "error.contact_not_open": "This contact request has been answered already.",
    "error.item_not_open": "The offer or need is not open any more.",
    "error.invalid_transition": "This status change is not possible.",
    "error.last_owner": "The last member with admin rights cannot be removed.",
    "error.not_an_organisation": "This is only possible for organisations, not for private persons.",
    "error.not_a_match": "This offer and this need are not among the current suggestions.",
    "error.rate_limited": "Too many requests. Please wait a moment.",
    "error.payload_too_large": "The entries are too large.",
    "error.service_unavailable": "A service is not available right now. Please try again shortly.",
    "error.upstream_unavailable": "A service is not available right now. Please try again shortly.",
    "error.search_unavailable": "Search is not available right now. Please try again shortly.",
    "error.busy": "The service is busy. Please try again shortly.",
    "error.invalid_cursor": "The result list is out of date. Please search again.",
    "error.network": "No connection to the server.",
    "error.unknown": "Unexpected error ({status}).",
    "field.missing": "Please fill this in.",
    "field.too_short": "At least {n} characters.",
    "field.too_long": "At most {n} characters.",
    "field.list_too_short": "Please choose at least {n}.",
    "field.list_too_long": "At most {n} entries.",
    "field.min": "At least {n}.",
    "field.max": "At most {n}.",
    "field.gt": "Must be greater than {n}.",
    "field.blank": "Must not be blank.",
    "field.email": "Not a valid e-mail address.",
    "field.after_start": "The end must be after the start.",
    "field.time": "Please give a time between 00:00 and 23:59.",
    "field.url": "Please give an http(s) address.",
    "field.color": "Please give a colour like #1a2b3c.",
    "field.invalid": "Invalid value.",
    "field.number": "Please enter a number.",
    "field.future": "Must lie in the future.",
    "field.shift_length": "A date lasts at most 24 hours.",
    "field.places_confirmed": "Signed up already: {n}. Fewer places are not possible.",
    "field.more_than_zero": "Must be more than 0.",
    "field.reason": "Please give a reason.",
    "field.shift_cancelled": "The date is cancelled.",
    "field.shift_over": "The date has started or is over.",
    "field.hours_too_early": "Hours can be entered once the date has started.",
    "field.hours_too_many": "More hours than the date lasts.",
  },
});

/** A translated message for an API error (by its code; the server's text as a last resort). */
export function errorText(error) {
  if (!error) return "";
  const key = `error.${error.code}`;
  if (texts[current][key]) return texts[current][key];
  if (error.status === 0) return t("error.network");
  return error.message || t("error.unknown", { status: error.status ?? "?" });
}

/** A translated message for one `{field, message, type}` detail of a 422 answer. */
export function detailText(detail) {
  const message = String(detail.message || "");
  const type = detail.type || "";
  const number = (message.match(/(-?\d+(?:\.\d+)?)/) || [])[1];
  const rules = [
    [type === "missing", "field.missing"],
    [type === "string_too_short", "field.too_short"],
    [type === "string_too_long", "field.too_long"],
    [type === "too_short", "field.list_too_short"],
    [type === "too_long", "field.list_too_long"],
    [type === "greater_than_equal", "field.min"],
    [type === "less_than_equal" || type === "less_than", "field.max"],
    [type === "greater_than", "field.gt"],
    [/must not be blank/.test(message), "field.blank"],
    [/at least (\d+) characters/.test(message), "field.too_short"],
    [/e-mail/.test(message), "field.email"],
    [/must be after start/.test(message), "field.after_start"],
    [/HH:MM/.test(message), "field.time"],
    [/http\(s\) URL/.test(message), "field.url"],
    [/colour like/.test(message), "field.color"],
    [/float|int|number/.test(type), "field.number"],
    [/must be in the future/.test(message), "field.future"],
    [/at most 24 hours/.test(message), "field.shift_length"],
    [/volunteers are confirmed already/.test(message), "field.places_confirmed"],
    [/must be more than 0/.test(message), "field.more_than_zero"],
    [/say why you remove/.test(message), "field.reason"],
    [/shift is cancelled/.test(message), "field.shift_cancelled"],
    [/has started or is over/.test(message), "field.shift_over"],
    [/once the shift has started/.test(message), "field.hours_too_early"],
    [/the shift lasts/.test(message), "field.hours_too_many"],
  ];
  const hit = rules.find(([matches]) => matches);
  if (hit) return t(hit[1], { n: number ?? "" });
  return current === "en" && message ? message : (message ? `${t("field.invalid")} (${message})` : t("field.invalid"));
}

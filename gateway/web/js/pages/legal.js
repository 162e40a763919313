// #/impressum and #/datenschutz: the selected municipality's texts (set by its admins under
// #/admin/branding), else the platform's default text. Texts are plain text: paragraphs are
// separated by blank lines; nothing is interpreted as HTML.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api } from "../core/api.js";
import { label, lang } from "../core/i18n.js";
import { formatDate } from "../core/format.js";

export const TEXTS = {
  de: {
    lg_impressum: "Impressum", lg_privacy: "Datenschutzerklärung",
    lg_for: "für {name}", lg_default_note: "{name} hat noch keinen eigenen Text hinterlegt. Es gilt der folgende Text des Plattformbetriebs.",
    lg_default_note_platform: "Es gilt der folgende Text des Plattformbetriebs.",
    lg_updated: "Stand: {date}", lg_other_impressum: "Zum Impressum", lg_other_privacy: "Zur Datenschutzerklärung",
    lg_my_data: "Meine Daten herunterladen oder Konto löschen",
  },
  en: {
    lg_impressum: "Legal notice (Impressum)", lg_privacy: "Privacy policy",
    lg_for: "for {name}", lg_default_note: "{name} has not provided its own text yet. The platform operator's text below applies.",
    lg_default_note_platform: "The platform operator's text below applies.",
    lg_updated: "Last updated: {date}", lg_other_impressum: "To the legal notice", lg_other_privacy: "To the privacy policy",
    lg_my_data: "Download my data or delete my account",
  },
};

// The platform's own texts, used while a municipality has not set its own.
const DEFAULTS = {
  impressum: {
    de: `Diese Engagement-Plattform wird landesweit für alle teilnehmenden Kommunen betrieben. Jede Kommune ist für ihre eigenen Inhalte (Willkommenstext, Moderation) selbst verantwortlich und kann hier ein eigenes Impressum hinterlegen.

Angaben gemäß § 5 DDG und § 18 MStV: Betreiber der Plattform ist die zuständige Stelle des Landes. Anschrift, Vertretungsberechtigte und Kontakt werden vom Plattformbetrieb bei der Inbetriebnahme hier eingetragen.

Für die Angebote und Gesuche sind die jeweiligen Personen und Organisationen verantwortlich, die sie veröffentlicht haben. Hinweise auf rechtswidrige Inhalte nimmt die Moderation der jeweiligen Kommune entgegen.`,
    en: `This volunteering platform is run statewide for all participating municipalities. Each municipality is responsible for its own content (welcome text, moderation) and can provide its own legal notice here.

Information under § 5 DDG and § 18 MStV: the platform is operated by the responsible authority of the federal state. Address, representatives and contact are filled in here by the platform operator when the platform goes live.

The persons and organisations who published offers and needs are responsible for them. The moderation of the municipality concerned takes notice of unlawful content.`,
  },
  datenschutz: {
    de: `Wir verarbeiten nur die Daten, die für die Vermittlung von Engagement nötig sind: Ihr Profil (Name, Art des Profils, E-Mail-Adresse, Ort), Ihre Angebote und Gesuche, Kontaktanfragen und Benachrichtigungen.

Wo Sie wohnen, bleibt privat: Der Ort einer Privatperson und ihrer Einträge wird anderen nur vergröbert (etwa 1 km) angezeigt. Name und E-Mail-Adresse sieht die andere Seite erst, wenn Sie einer Kontaktanfrage zugestimmt haben.

Benachrichtigungen erhalten Sie im Posteingang und – wenn Sie es wünschen – per E-Mail; jede E-Mail enthält einen Abmeldelink. Die Plattform setzt keine Tracking- oder Werbedienste ein und lädt keine Inhalte von fremden Servern.

Ihre Rechte: Unter „Meine Daten“ laden Sie alle über Sie gespeicherten Daten herunter (Art. 15 und 20 DSGVO) oder löschen Ihr Konto (Art. 17 DSGVO); die Löschung erreicht alle Teile der Plattform. Sie haben außerdem das Recht auf Berichtigung, Einschränkung und Widerspruch sowie auf Beschwerde bei der zuständigen Datenschutzaufsichtsbehörde.`,
    en: `We process only the data needed to match volunteering: your profile (name, kind of profile, e-mail address, place), your offers and needs, contact requests and notifications.

Where you live stays private: the place of a private person and of their entries is shown to others only coarsened (about 1 km). The other side sees your name and e-mail address only once you have accepted a contact request.

You receive notifications in the inbox and, if you wish, by e-mail; every e-mail contains an unsubscribe link. The platform uses no tracking or advertising services and loads no content from third-party servers.

Your rights: under “My data” you download all data stored about you (Art. 15 and 20 GDPR) or delete your account (Art. 17 GDPR); the deletion reaches every part of the platform. You also have the right to rectification, restriction and objection, and to lodge a complaint with the competent data protection supervisory authority.`,
  },
};

// Where a tenant may keep the texts (the API's field names; the first one set wins).
const FIELDS = {
  impressum: ["impressum", "imprint", "legal_notice"],
  datenschutz: ["privacy", "datenschutz", "privacy_policy"],
};

function which(ctx) { return ctx.path === "#/datenschutz" ? "datenschutz" : "impressum"; }

export function title(ctx) { return ctx.t(which(ctx) === "datenschutz" ? "lg_privacy" : "lg_impressum"); }

/** The tenant's text for `kind` in the current language, or "" (string or {de, en}). */
export function tenantText(tenant, kind) {
  if (!tenant) return "";
  const places = [tenant.legal, tenant.branding && tenant.branding.legal, tenant.branding, tenant];
  for (const place of places) {
    if (!place || typeof place !== "object") continue;
    for (const field of FIELDS[kind]) {
      const text = label(place[field]);
      if (text && text.trim()) return text;
    }
  }
  return "";
}

function paragraphs(text) {
  return text.split(/\n\s*\n/).map((part) => part.trim()).filter(Boolean)
    .map((part) => html`<p>${part.split("\n").map((line, index) => (index ? html`<br>${line}` : line))}</p>`);
}

export async function render(ctx) {
  const { t } = ctx;
  const kind = which(ctx);
  let tenant = ctx.tenant;
  if (tenant && tenant.id) {
    try { tenant = { ...tenant, ...(await api(`/tenants/${encodeURIComponent(tenant.id)}`, { auth: false, signal: ctx.signal })) }; }
    catch (error) { if (error.name === "AbortError") throw error; }
  }
  const name = tenant ? (tenant.name || tenant.id) : "";
  const own = tenantText(tenant, kind);
  const text = own || DEFAULTS[kind][lang()] || DEFAULTS[kind].de;
  const heading = t(kind === "datenschutz" ? "lg_privacy" : "lg_impressum");
  draw(html`<article class="legal">
      <h1>${heading}${name ? html` <span class="h1-sub">${t("lg_for", { name })}</span>` : nothing}</h1>
      ${own ? nothing : html`<p class="notice">${name ? t("lg_default_note", { name }) : t("lg_default_note_platform")}</p>`}
      ${paragraphs(text)}
      ${own && tenant.updated_at ? html`<p class="muted">${t("lg_updated", { date: formatDate(tenant.updated_at) })}</p>` : nothing}
      <p>${kind === "datenschutz"
        ? html`<a href="#/me">${t("lg_my_data")}</a> · <a href="#/impressum">${t("lg_other_impressum")}</a>`
        : html`<a href="#/datenschutz">${t("lg_other_privacy")}</a>`}</p>
    </article>`, ctx.main);
}

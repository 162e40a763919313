// #/admin and #/admin/<section>: a municipality's administration, for its tenant admins (own
// municipality) and the operator (any municipality, ?tenant=<id>).
//   branding   – PATCH /tenants/{id}: name, colours (contrast checked live; the API refuses a pair
//                that fails WCAG AA with 422), logo, welcome text and legal texts in de/en
//   moderation – GET /moderation/items?status=&kind=&after= (next_cursor); hide with a reason, unhide
//   stats      – GET /tenants/{id}/stats as tables, and as CSV (?format=csv)
// Endpoints that answer 404 (not deployed yet) show a "not available yet" state.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { ref } from "/static/vendor/lit-html/directives/ref.js";
import { api, API_PREFIX, ApiError } from "../core/api.js";
import { applyBranding, contrast } from "../core/branding.js";
import { clearErrors, showErrors } from "../core/forms.js";
import { errorText, lang } from "../core/i18n.js";
import { formatDate, formatNumber } from "../core/format.js";
import { errorBox, itemHref, loading, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: {
    ad_title: "Verwaltung", ad_title_of: "Verwaltung: {section}",
    ad_for: "Kommune {name}",
    ad_intro: "Hier pflegen Sie den Auftritt Ihrer Kommune, moderieren Einträge und sehen, wie die Plattform genutzt wird.",
    ad_sections: "Bereiche der Verwaltung",
    ad_branding: "Erscheinungsbild und Texte", ad_moderation: "Moderation", ad_stats: "Statistik",
    ad_branding_text: "Name, Farben, Logo, Willkommenstext, Impressum und Datenschutz.",
    ad_moderation_text: "Angebote und Gesuche prüfen, ausblenden und wieder einblenden.",
    ad_stats_text: "Veröffentlichte Einträge, Vorschläge und Kontakte nach Monat und Handlungsfeld.",
    ad_widget: "Website-Widget",
    ad_widget_text: "Die aktuellen Gesuche Ihrer Kommune auf Ihrer eigenen Website zeigen.",
    ad_widget_intro: "Kopieren Sie diesen Code in eine Seite Ihrer Website. Er zeigt die neuesten offenen Gesuche Ihrer Kommune, jedes mit einem Link auf die Plattform. Standorte von Privatpersonen erscheinen darin nicht.",
    ad_widget_code: "Code für Ihre Website", ad_widget_copy: "Code kopieren", ad_widget_copied: "Der Code ist in der Zwischenablage.",
    ad_widget_lang: "Sprache des Widgets", ad_widget_limit: "Anzahl Gesuche", ad_widget_preview: "Vorschau", ad_widget_show: "Vorschau anzeigen",
    ad_widget_title: "Aktuelle Gesuche in {name}", ad_lang_de: "Deutsch", ad_lang_en: "Englisch",
    ad_not_allowed: "Diese Seite ist nur für die Verwaltung einer Kommune (Kommunen-Admin) und den Plattformbetrieb zugänglich.",
    ad_not_allowed_tenant: "Sie verwalten nur Ihre eigene Kommune.",
    ad_tenant: "Kommune", ad_tenant_apply: "Kommune wählen", ad_onboard: "Kommune aufnehmen",
    ad_unknown_section: "Diesen Bereich gibt es nicht.",
    ad_not_available: "Diese Funktion ist auf dem Server noch nicht verfügbar. Bitte versuchen Sie es später noch einmal.",
    ad_tenant_missing: "Die Kommune „{id}“ gibt es (noch) nicht.",
    // branding
    ad_display_name: "Angezeigter Name", ad_display_name_hint: "Erscheint oben auf jeder Seite, z. B. „Engagiert in Münster“.",
    ad_colors: "Farben",
    ad_colors_hint: "Die Farben müssen gut lesbar bleiben: Text und Hauptfarbe brauchen auf dem Hintergrund einen Kontrast von mindestens 4,5 : 1 (WCAG AA).",
    ad_primary_color: "Hauptfarbe", ad_primary_color_hint: "Kopfzeile, Links und Schaltflächen.",
    ad_secondary_color: "Zweitfarbe", ad_secondary_color_hint: "Hinweisflächen.",
    ad_text_color: "Textfarbe", ad_text_color_hint: "Fließtext.",
    ad_background_color: "Hintergrundfarbe", ad_background_color_hint: "Seitenhintergrund.",
    ad_color_hint: "Hexadezimal wie #005ca9.", ad_color_picker: "{name} auswählen",
    ad_preview_heading: "Überschrift und Links von {name}", ad_preview_text: "So sieht Fließtext auf dem Hintergrund aus.",
    ad_contrast_pair: "{fg} auf {bg}", ad_contrast: "Kontrast {ratio} : 1", ad_contrast_ok: "erfüllt WCAG AA.",
    ad_contrast_fail: "zu gering (mindestens 4,5 : 1 nötig).",
    ad_contrast_fail_pair: "{fg} auf {bg} hat nur einen Kontrast von {ratio} : 1; nötig sind mindestens 4,5 : 1 (WCAG AA). Bitte wählen Sie eine dunklere oder hellere Farbe.",
    ad_contrast_live_fail: "Achtung: Eine Farbkombination ist nicht kontrastreich genug.",
    ad_logo_legend: "Logo",
    ad_logo: "Logo-Adresse (URL)", ad_logo_hint: "Eine https-Adresse eines Bildes (quadratisch, mindestens 80 × 80 Pixel). Oder laden Sie unten eine Datei hoch.",
    ad_logo_file: "Logo-Datei hochladen", ad_logo_file_hint: "PNG, JPEG, WebP, GIF oder SVG, höchstens etwa 70 KB.",
    ad_logo_type: "Bitte wählen Sie ein Bild (PNG, JPEG, WebP, GIF oder SVG).",
    ad_logo_too_big: "Das Bild ist zu groß (höchstens etwa 70 KB). Bitte verkleinern Sie es.",
    ad_logo_loaded: "Logo geladen. Zum Übernehmen bitte speichern.", ad_logo_embedded: "Hochgeladenes Bild",
    ad_logo_remove: "Logo entfernen", ad_logo_preview: "Vorschau des Logos",
    ad_texts: "Texte", ad_welcome: "Willkommenstext", ad_impressum: "Impressum", ad_privacy: "Datenschutzerklärung",
    ad_in_de: "{name} (Deutsch)", ad_in_en: "{name} (Englisch)",
    ad_texts_hint: "Reiner Text; Absätze durch eine Leerzeile trennen.",
    ad_texts_unavailable: "Willkommens- und Rechtstexte können auf dem Server noch nicht gespeichert werden. Bis dahin gilt der Standardtext der Plattform.",
    ad_save_branding: "Erscheinungsbild speichern", ad_saved: "Erscheinungsbild von {name} gespeichert.",
    ad_nothing_changed: "Es gab keine Änderungen zu speichern.",
    ad_card: "Ehrenamtskarte", ad_card_hours: "Stunden im Jahr für die Ehrenamtskarte",
    ad_card_hint: "In NRW: 250 Stunden im Jahr (etwa 5 Stunden pro Woche). Engagierte sehen unter „Meine Stunden“, wie weit sie sind.",
    ad_card_save: "Ehrenamtskarte speichern", ad_card_saved: "Gespeichert: {hours} Stunden im Jahr.",
    ad_view_legal: "Impressum ansehen", ad_view_privacy: "Datenschutz ansehen",
    // moderation
    ad_mod_status: "Status", ad_mod_published: "Veröffentlicht", ad_mod_hidden: "Ausgeblendet",
    ad_mod_kind: "Art", ad_mod_all_kinds: "Angebote und Gesuche", ad_mod_filter: "Anzeigen",
    ad_mod_empty: "Keine Einträge in dieser Ansicht.",
    ad_mod_reason: "Grund für das Ausblenden", ad_mod_reason_hint: "Wird gespeichert und der anbietenden Seite angezeigt.",
    ad_mod_reason_missing: "Bitte geben Sie einen Grund an.",
    ad_mod_hide: "Ausblenden", ad_mod_unhide: "Wieder einblenden",
    ad_mod_hidden_now: "„{title}“ ist ausgeblendet.", ad_mod_unhidden_now: "„{title}“ ist wieder sichtbar.",
    ad_mod_hidden_reason: "Ausgeblendet wegen: {reason}", ad_mod_by: "von {name}", ad_mod_created: "Eingestellt am {date}",
    ad_mod_more: "Weitere Einträge laden", ad_mod_unhide_unavailable: "Wieder einblenden ist auf dem Server noch nicht verfügbar.",
    // stats
    ad_stats_totals: "Gesamt", ad_stats_by_month: "Nach Monat", ad_stats_by_category: "Nach Handlungsfeld",
    ad_stats_caption_month: "Kennzahlen von {name} nach Monat", ad_stats_caption_category: "Kennzahlen von {name} nach Handlungsfeld",
    ad_stats_month: "Monat", ad_stats_category: "Handlungsfeld",
    ad_stats_items_published: "Veröffentlichte Einträge", ad_stats_matches_found: "Gefundene Vorschläge",
    ad_stats_contacts_requested: "Kontaktanfragen", ad_stats_contacts_accepted: "Angenommene Kontakte",
    ad_stats_median_hours_to_first_match: "Median Stunden bis zum ersten Vorschlag",
    ad_stats_offers_published: "Veröffentlichte Angebote", ad_stats_needs_published: "Veröffentlichte Gesuche",
    ad_stats_none: "Noch keine Daten.", ad_stats_csv: "CSV herunterladen", ad_stats_csv_done: "CSV-Datei heruntergeladen: {file}",
    ad_stats_no_value: "–",
    ad_stats_engagement: "Termine und Stunden", ad_stats_shifts: "Termine", ad_stats_signups: "Anmeldungen",
    ad_stats_waitlisted: "Auf Wartelisten", ad_stats_no_shows: "Nicht erschienen", ad_stats_hours_confirmed: "Bestätigte Stunden",
  },
  en: {
    ad_title: "Administration", ad_title_of: "Administration: {section}",
    ad_for: "Municipality {name}",
    ad_intro: "Maintain your municipality's appearance, moderate entries and see how the platform is used.",
    ad_sections: "Administration sections",
    ad_branding: "Appearance and texts", ad_moderation: "Moderation", ad_stats: "Statistics",
    ad_branding_text: "Name, colours, logo, welcome text, legal notice and privacy policy.",
    ad_moderation_text: "Review offers and needs, hide them and show them again.",
    ad_stats_text: "Published entries, suggestions and contacts by month and field.",
    ad_widget: "Website widget",
    ad_widget_text: "Show your municipality's current needs on your own website.",
    ad_widget_intro: "Copy this code into a page of your website. It shows your municipality's newest open needs, each linking to the platform. Private persons' locations never appear in it.",
    ad_widget_code: "Code for your website", ad_widget_copy: "Copy code", ad_widget_copied: "The code is on the clipboard.",
    ad_widget_lang: "Language of the widget", ad_widget_limit: "Number of needs", ad_widget_preview: "Preview", ad_widget_show: "Show the preview",
    ad_widget_title: "Current needs in {name}", ad_lang_de: "German", ad_lang_en: "English",
    ad_not_allowed: "This page is only for a municipality's administrators (municipal admin) and the platform operator.",
    ad_not_allowed_tenant: "You only administer your own municipality.",
    ad_tenant: "Municipality", ad_tenant_apply: "Choose municipality", ad_onboard: "Onboard a municipality",
    ad_unknown_section: "This section does not exist.",
    ad_not_available: "This function is not available on the server yet. Please try again later.",
    ad_tenant_missing: "The municipality “{id}” does not exist (yet).",
    ad_display_name: "Display name", ad_display_name_hint: "Shown at the top of every page, e.g. “Engagiert in Münster”.",
    ad_colors: "Colours",
    ad_colors_hint: "The colours must stay readable: text and primary colour need a contrast of at least 4.5 : 1 on the background (WCAG AA).",
    ad_primary_color: "Primary colour", ad_primary_color_hint: "Header, links and buttons.",
    ad_secondary_color: "Secondary colour", ad_secondary_color_hint: "Notice areas.",
    ad_text_color: "Text colour", ad_text_color_hint: "Body text.",
    ad_background_color: "Background colour", ad_background_color_hint: "Page background.",
    ad_color_hint: "Hexadecimal like #005ca9.", ad_color_picker: "Pick {name}",
    ad_preview_heading: "Headings and links of {name}", ad_preview_text: "This is how body text looks on the background.",
    ad_contrast_pair: "{fg} on {bg}", ad_contrast: "contrast {ratio} : 1", ad_contrast_ok: "meets WCAG AA.",
    ad_contrast_fail: "too low (at least 4.5 : 1 needed).",
    ad_contrast_fail_pair: "{fg} on {bg} has a contrast of only {ratio} : 1; at least 4.5 : 1 is needed (WCAG AA). Please choose a darker or lighter colour.",
    ad_contrast_live_fail: "Caution: a colour combination is not contrasting enough.",
    ad_logo_legend: "Logo",
    ad_logo: "Logo address (URL)", ad_logo_hint: "An https address of an image (square, at least 80 × 80 pixels). Or upload a file below.",
    ad_logo_file: "Upload a logo file", ad_logo_file_hint: "PNG, JPEG, WebP, GIF or SVG, at most about 70 KB.",
    ad_logo_type: "Please choose an image (PNG, JPEG, WebP, GIF or SVG).",
    ad_logo_too_big: "The image is too large (at most about 70 KB). Please make it smaller.",
    ad_logo_loaded: "Logo loaded. Save to apply it.", ad_logo_embedded: "Uploaded image",
    ad_logo_remove: "Remove logo", ad_logo_preview: "Logo preview",
    ad_texts: "Texts", ad_welcome: "Welcome text", ad_impressum: "Legal notice (Impressum)", ad_privacy: "Privacy policy",
    ad_in_de: "{name} (German)", ad_in_en: "{name} (English)",
    ad_texts_hint: "Plain text; separate paragraphs with an empty line.",
    ad_texts_unavailable: "Welcome and legal texts cannot be stored on the server yet. Until then the platform's default text applies.",
    ad_save_branding: "Save appearance", ad_saved: "Appearance of {name} saved.",
    ad_nothing_changed: "There were no changes to save.",
    ad_card: "Volunteer card (Ehrenamtskarte)", ad_card_hours: "Hours a year for the volunteer card",
    ad_card_hint: "In NRW: 250 hours a year (about 5 hours a week). Volunteers see under “My hours” how far they are.",
    ad_card_save: "Save volunteer card", ad_card_saved: "Saved: {hours} hours a year.",
    ad_view_legal: "View legal notice", ad_view_privacy: "View privacy policy",
    ad_mod_status: "Status", ad_mod_published: "Published", ad_mod_hidden: "Hidden",
    ad_mod_kind: "Kind", ad_mod_all_kinds: "Offers and needs", ad_mod_filter: "Show",
    ad_mod_empty: "No entries in this view.",
    ad_mod_reason: "Reason for hiding", ad_mod_reason_hint: "Stored and shown to the publishing side.",
    ad_mod_reason_missing: "Please give a reason.",
    ad_mod_hide: "Hide", ad_mod_unhide: "Show again",
    ad_mod_hidden_now: "“{title}” is hidden.", ad_mod_unhidden_now: "“{title}” is visible again.",
    ad_mod_hidden_reason: "Hidden because: {reason}", ad_mod_by: "by {name}", ad_mod_created: "Posted on {date}",
    ad_mod_more: "Load more entries", ad_mod_unhide_unavailable: "Showing again is not available on the server yet.",
    ad_stats_totals: "Totals", ad_stats_by_month: "By month", ad_stats_by_category: "By field",
    ad_stats_caption_month: "Figures of {name} by month", ad_stats_caption_category: "Figures of {name} by field",
    ad_stats_month: "Month", ad_stats_category: "Field",
    ad_stats_items_published: "Published entries", ad_stats_matches_found: "Suggestions found",
    ad_stats_contacts_requested: "Contact requests", ad_stats_contacts_accepted: "Contacts accepted",
    ad_stats_median_hours_to_first_match: "Median hours to first suggestion",
    ad_stats_offers_published: "Offers published", ad_stats_needs_published: "Needs published",
    ad_stats_none: "No data yet.", ad_stats_csv: "Download CSV", ad_stats_csv_done: "CSV file downloaded: {file}",
    ad_stats_no_value: "–",
    ad_stats_engagement: "Dates and hours", ad_stats_shifts: "Dates", ad_stats_signups: "Sign-ups",
    ad_stats_waitlisted: "On waiting lists", ad_stats_no_shows: "No-shows", ad_stats_hours_confirmed: "Hours confirmed",
  },
};

const SECTIONS = ["branding", "moderation", "stats", "widget"];
// Figures of dates, sign-ups and hours (issue 13) at the top level of GET /tenants/{id}/stats.
const ENGAGEMENT_FIGURES = ["shifts", "signups", "waitlisted", "no_shows", "hours_confirmed"];
// The API's names for the texts (the first one the tenant's branding has is used).
const TEXT_FIELDS = {
  welcome: ["welcome_text", "welcome"],
  impressum: ["impressum", "imprint", "legal_notice"],
  privacy: ["privacy", "datenschutz", "privacy_policy"],
};
const TEXT_LABEL = { welcome: "ad_welcome", impressum: "ad_impressum", privacy: "ad_privacy" };
const AA = 4.5;
// Colours of a municipality and the pairs the API checks for WCAG AA (foreground on background);
// a colour not set counts as its default.
const COLOR_FIELDS = ["primary_color", "secondary_color", "text_color", "background_color"];
const COLOR_PAIRS = [["text_color", "background_color"], ["primary_color", "background_color"]];
const COLOR_DEFAULTS = { background_color: "#ffffff", text_color: "#1a1a1a", primary_color: "#005ca9", secondary_color: "#e8f1fa" };
const MAX_LOGO_DATA = 100000;

function sectionOf(ctx) { return ctx.params.section || ""; }

export function title(ctx) {
  const section = sectionOf(ctx);
  return SECTIONS.includes(section) ? ctx.t("ad_title_of", { section: ctx.t(`ad_${section}`) }) : ctx.t("ad_title");
}

function hexToRgb(value) {
  const match = /^#([0-9a-f]{6})$/i.exec(String(value || "").trim());
  if (!match) return null;
  const n = parseInt(match[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function notAvailable(error) {
  return error instanceof ApiError && (error.status === 404 || error.status === 405);
}

export async function render(ctx) {
  const { t, session } = ctx;
  const section = sectionOf(ctx);
  const heading = SECTIONS.includes(section) ? t("ad_title_of", { section: t(`ad_${section}`) }) : t("ad_title");
  if (!session.signedIn) { draw(html`<h1>${heading}</h1>${signInNeeded()}`, ctx.main); return; }
  const operator = session.hasRole("operator");
  if (!operator && !session.hasRole("tenant_admin")) {
    draw(html`<h1>${heading}</h1><p class="notice warn" role="alert">${t("ad_not_allowed")}</p>`, ctx.main);
    return;
  }
  // Tenant admins administer their own municipality; the operator any (?tenant=, else the one
  // chosen in the header).
  const wanted = typeof ctx.query.tenant === "string" ? ctx.query.tenant : "";
  const tenantId = operator ? (wanted || (ctx.tenant && ctx.tenant.id) || session.tenant) : session.tenant;
  const wrongTenant = !operator && wanted && wanted !== session.tenant;

  let tenant = null;
  let tenantError = null;
  try {
    tenant = await api(`/tenants/${encodeURIComponent(tenantId)}`, { signal: ctx.signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    tenantError = error;
  }
  const name = tenant ? (tenant.name || tenant.id) : tenantId;
  const link = (target, extra = {}) => {
    const query = new URLSearchParams();
    if (operator && tenantId) query.set("tenant", tenantId);
    for (const [key, value] of Object.entries(extra)) if (value) query.set(key, value);
    const text = query.toString();
    return `#/admin${target ? `/${target}` : ""}${text ? `?${text}` : ""}`;
  };

  function frame(body) {
    return html`<h1>${heading}<span class="h1-sub">${t("ad_for", { name })}</span></h1>
      ${wrongTenant ? html`<p class="notice warn">${t("ad_not_allowed_tenant")}</p>` : nothing}
      ${operator ? tenantPicker() : nothing}
      <nav class="admin-nav" aria-label=${t("ad_sections")}>
        <ul>${SECTIONS.map((s) => html`<li><a href=${link(s)} aria-current=${s === section ? "page" : nothing}>${t(`ad_${s}`)}</a></li>`)}
          ${operator ? html`<li><a href="#/operator">${t("ad_onboard")}</a></li>` : nothing}</ul>
      </nav>
      ${body}`;
  }

  function tenantPicker() {
    const pick = (event) => {
      event.preventDefault();
      const chosen = new FormData(event.target).get("tenant");
      ctx.navigate(`#/admin${section ? `/${section}` : ""}?tenant=${encodeURIComponent(chosen)}`);
    };
    return html`<form class="inline-form" @submit=${pick}>
      <div class="field"><label for="admin-tenant">${t("ad_tenant")}</label>
        <select id="admin-tenant" name="tenant">
          ${[...(ctx.tenants || []), ...((ctx.tenants || []).some((x) => x.id === tenantId) ? [] : [{ id: tenantId, name }])]
            .map((x) => html`<option value=${x.id} ?selected=${x.id === tenantId}>${x.name}</option>`)}
        </select></div>
      <button type="submit">${t("ad_tenant_apply")}</button>
    </form>`;
  }

  if (tenantError) {
    const missing = tenantError instanceof ApiError && tenantError.status === 404;
    draw(frame(missing ? html`<p class="notice warn">${t("ad_tenant_missing", { id: tenantId })}</p>` : errorBox(tenantError)), ctx.main);
    return;
  }
  if (!section) { draw(frame(overview()), ctx.main); return; }
  if (!SECTIONS.includes(section)) {
    draw(frame(html`<p class="notice warn">${t("ad_unknown_section")}</p>${overview()}`), ctx.main);
    return;
  }
  const run = { branding: brandingSection, moderation: moderationSection, stats: statsSection,
                widget: widgetSection }[section];
  await run();

  // ---- widget -------------------------------------------------------------------------------
  async function widgetSection() {
    const options = { lang: "de", limit: 5, preview: false };
    const widgetUrl = () => `${window.location.origin}/embed/needs?tenant=${encodeURIComponent(tenantId)}`
      + `&lang=${options.lang}&limit=${options.limit}`;
    const snippet = () => `<iframe src="${widgetUrl()}" title="${t("ad_widget_title", { name })}" `
      + `width="100%" height="420" style="border:0" loading="lazy"></iframe>`;

    function change(event) {
      const field = event.target;
      if (field.name === "lang") options.lang = field.value === "en" ? "en" : "de";
      if (field.name === "limit") options.limit = Math.min(Math.max(Number(field.value) || 5, 1), 20);
      redraw();
    }

    async function copy() {
      try {
        await navigator.clipboard.writeText(snippet());
        ctx.announce(t("ad_widget_copied"));
      } catch {
        const code = document.getElementById("widget-code");
        code.focus();
        code.select();
      }
    }

    function redraw() {
      draw(frame(html`<h2>${t("ad_widget")}</h2>
        <p>${t("ad_widget_intro")}</p>
        <form class="inline-form" @change=${change} @submit=${(event) => event.preventDefault()}>
          <div class="field"><label for="widget-lang">${t("ad_widget_lang")}</label>
            <select id="widget-lang" name="lang">
              <option value="de" ?selected=${options.lang === "de"}>${t("ad_lang_de")}</option>
              <option value="en" ?selected=${options.lang === "en"}>${t("ad_lang_en")}</option>
            </select></div>
          <div class="field"><label for="widget-limit">${t("ad_widget_limit")}</label>
            <input id="widget-limit" name="limit" type="number" min="1" max="20" .value=${String(options.limit)}></div>
        </form>
        <div class="field"><label for="widget-code">${t("ad_widget_code")}</label>
          <textarea id="widget-code" readonly rows="4" .value=${snippet()}></textarea></div>
        <p><button type="button" @click=${copy}>${t("ad_widget_copy")}</button></p>
        <h3>${t("ad_widget_preview")}</h3>
        ${options.preview ? html`<iframe class="widget-preview" src=${widgetUrl()}
            title=${t("ad_widget_title", { name })} width="100%" height="420"></iframe>`
          : html`<p><button type="button" @click=${() => { options.preview = true; redraw(); }}>${t("ad_widget_show")}</button></p>`}`), ctx.main);
    }
    redraw();
  }

  // ---- overview -----------------------------------------------------------------------------
  function overview() {
    return html`<p>${t("ad_intro")}</p>
      <ul class="cards">${SECTIONS.map((s) => html`<li class="card"><h2><a href=${link(s)}>${t(`ad_${s}`)}</a></h2>
        <p>${t(`ad_${s}_text`)}</p></li>`)}</ul>`;
  }

  // ---- branding -----------------------------------------------------------------------------
  async function brandingSection() {
    const branding = { ...(tenant.branding || {}) };
    const keys = new Set(Object.keys(branding));
    // Which text fields the API knows, and in which shape ({de, en} or "<field>_de"/"<field>_en").
    const texts = {};
    for (const [concept, candidates] of Object.entries(TEXT_FIELDS)) {
      for (const candidate of candidates) {
        if (keys.has(candidate)) { texts[concept] = { key: candidate, split: false }; break; }
        if (keys.has(`${candidate}_de`)) { texts[concept] = { key: candidate, split: true }; break; }
      }
    }
    // The colours the API knows; the pairs it checks (foreground on background, WCAG AA).
    const colors = COLOR_FIELDS.filter((key) => keys.has(key) || key === "primary_color" || key === "secondary_color");
    const pairs = COLOR_PAIRS.filter(([fg, bg]) => colors.includes(fg) && (colors.includes(bg) || COLOR_DEFAULTS[bg]));
    const form = {
      display_name: branding.display_name || "",
      logo_url: branding.logo_url || "",
    };
    for (const key of colors) form[key] = branding[key] || "";
    for (const [concept, spec] of Object.entries(texts)) {
      for (const language of ["de", "en"]) {
        const value = spec.split ? branding[`${spec.key}_${language}`] : branding[spec.key];
        form[`${concept}.${language}`] = spec.split ? (value || "")
          : (value && typeof value === "object" ? (value[language] || "") : (language === "de" ? (value || "") : ""));
      }
    }
    const state = { busy: false, saved: false, savedText: "", contrastErrors: new Map(), logoError: "" };
    const redraw = () => { if (ctx.isCurrent()) draw(frame(view()), ctx.main); };

    const colorOf = (key) => (hexToRgb(form[key]) ? form[key].trim().toLowerCase() : (form[key].trim() ? null : COLOR_DEFAULTS[key] || null));
    function ratioOf([fg, bg]) {
      const a = hexToRgb(colorOf(fg));
      const b = hexToRgb(colorOf(bg));
      return a && b ? contrast(a, b) : null;
    }
    function failing() {
      return pairs.map((pair) => [pair, ratioOf(pair)]).filter(([, value]) => value != null && value < AA);
    }

    function onInput(event) {
      const field = event.target.dataset.key;
      if (!field) return;
      let value = event.target.value;
      if (event.target.type === "color") value = value.toLowerCase();
      form[field] = value;
      state.saved = false;
      if (field.endsWith("_color")) {
        // A problem disappears as soon as its pair passes.
        for (const [fg, bg] of pairs) if ((ratioOf([fg, bg]) ?? 0) >= AA) { state.contrastErrors.delete(fg); state.contrastErrors.delete(bg); }
      }
      redraw();
    }

    function onLogoFile(event) {
      const file = event.target.files && event.target.files[0];
      state.logoError = "";
      if (!file) return;
      if (!/^image\/(png|jpeg|webp|gif|svg\+xml)$/.test(file.type)) { state.logoError = t("ad_logo_type"); redraw(); return; }
      const reader = new FileReader();
      reader.addEventListener("load", () => {
        const url = String(reader.result || "");
        if (url.length > MAX_LOGO_DATA) { state.logoError = t("ad_logo_too_big"); redraw(); return; }
        form.logo_url = url;
        state.saved = false;
        redraw();
        ctx.announce(t("ad_logo_loaded"));
      });
      reader.readAsDataURL(file);
    }

    function removeLogo() {
      form.logo_url = "";
      state.saved = false;
      redraw();
      ctx.main.querySelector("#brand-logo_url")?.focus();
    }

    function body() {
      const patch = { display_name: form.display_name.trim() || null, logo_url: form.logo_url.trim() || null };
      for (const key of colors) patch[key] = form[key].trim().toLowerCase() || null;
      for (const [concept, spec] of Object.entries(texts)) {
        const de = form[`${concept}.de`].trim();
        const en = form[`${concept}.en`].trim();
        if (spec.split) { patch[`${spec.key}_de`] = de || null; patch[`${spec.key}_en`] = en || null; }
        else patch[spec.key] = de || en ? { de, en } : null;
      }
      // Only what changed (the API changes only the branding fields a PATCH names).
      const changed = {};
      for (const [key, value] of Object.entries(patch)) {
        const before = branding[key] ?? null;
        if (JSON.stringify(before) !== JSON.stringify(value)) changed[key] = value;
      }
      return changed;
    }

    function contrastMessage(fg, bg) {
      const value = ratioOf([fg, bg]);
      return t("ad_contrast_fail_pair", { fg: t(`ad_${fg}`), bg: t(`ad_${bg}`), ratio: value == null ? "?" : formatNumber(value, 2) });
    }

    async function save(event) {
      event.preventDefault();
      if (state.busy) return;
      const element = event.target;
      clearErrors(element);
      state.contrastErrors.clear(); state.saved = false;
      const bad = failing();
      if (bad.length) {
        // The API refuses it too (422); say so before sending, next to the colour to change.
        // Marked at the colour the user changed (the foreground unless only the background changed).
        const changedColor = (key) => (form[key].trim().toLowerCase() || null) !== (branding[key] ?? null);
        const marked = bad.map(([[fg, bg]]) => (!changedColor(fg) && changedColor(bg) ? bg : fg));
        bad.forEach(([[fg, bg]], index) => state.contrastErrors.set(marked[index], contrastMessage(fg, bg)));
        redraw();
        element.querySelector(`#brand-${marked[0]}`)?.focus();
        return;
      }
      const changes = body();
      if (!Object.keys(changes).length) {
        state.savedText = t("ad_nothing_changed"); state.saved = true; redraw(); ctx.announce(state.savedText); return;
      }
      state.busy = true; redraw();
      try {
        const updated = await api(`/tenants/${encodeURIComponent(tenantId)}`, {
          method: "PATCH", body: { branding: changes, version: tenant.version } });
        tenant = updated;
        for (const key of Object.keys(branding)) delete branding[key];
        Object.assign(branding, updated.branding || {});
        state.savedText = t("ad_saved", { name: tenant.name });
        state.saved = true;
        ctx.announce(state.savedText);
        state.busy = false; redraw();
        // The colours of the page follow at once when this is the municipality shown.
        if (ctx.tenant && ctx.tenant.id === tenantId) applyBranding(updated.branding || {});
      } catch (error) {
        state.busy = false; redraw();
        if (error.name === "AbortError") return;
        // A refused colour pair is said next to the colour, in the page's words.
        const isContrast = (d) => /contrast|kontrast|wcag/i.test(d.message);
        const contrastDetails = error instanceof ApiError ? error.details.filter(isContrast) : [];
        if (contrastDetails.length) {
          for (const detail of contrastDetails) {
            const field = detail.field.replace(/^body\./, "").replace(/^branding\./, "");
            const pair = pairs.find(([fg, bg]) => fg === field || bg === field) || [field, "background_color"];
            state.contrastErrors.set(field, contrastMessage(pair[0], pair[1]));
          }
          redraw();
          error.details = error.details.filter((d) => !isContrast(d));
          if (!error.details.length) {
            element.querySelector(`#brand-${[...state.contrastErrors.keys()][0]}`)?.focus();
            return;
          }
        }
        showErrors(element, mapBrandingErrors(error));
      }
    }

    // Field paths of the API → the form's names ("branding.welcome_text.de" → "branding.welcome.de").
    function mapBrandingErrors(error) {
      if (!(error instanceof ApiError)) return error;
      const details = error.details.map((d) => {
        let field = d.field.replace(/^body\./, "");
        if (!field.startsWith("branding")) field = field ? `branding.${field}` : "branding";
        for (const [concept, spec] of Object.entries(texts)) {
          for (const language of ["de", "en"]) {
            field = field.replace(`branding.${spec.key}_${language}`, `branding.${concept}.${language}`)
              .replace(`branding.${spec.key}.${language}`, `branding.${concept}.${language}`);
          }
          if (field === `branding.${spec.key}`) field = `branding.${concept}.de`;
        }
        return { ...d, field };
      });
      if (!details.length && error.status === 422) details.push({ field: "branding", message: error.message, type: "" });
      error.details = details;
      return error;
    }

    function colorField(key) {
      const id = `brand-${key}`;
      const valid = Boolean(hexToRgb(form[key]));
      const problem = state.contrastErrors.get(key);
      const related = pairs.filter(([fg, bg]) => fg === key || bg === key).map(([fg]) => `contrast-${fg}`);
      const described = [`${id}-hint`, ...related, ...(problem ? [`${id}-problem`] : [])].join(" ");
      const shown = valid ? form[key].toLowerCase() : (COLOR_DEFAULTS[key] || "#000000");
      return html`<div class="field">
        <label for=${id}>${t(`ad_${key}`)}</label>
        <span class="hint" id=${`${id}-hint`}>${t(`ad_${key}_hint`)} ${t("ad_color_hint")}</span>
        <div class="color-row">
          <input type="color" aria-label=${t("ad_color_picker", { name: t(`ad_${key}`) })} data-key=${key}
            .value=${shown} @input=${onInput}>
          <input type="text" id=${id} name="branding.${key}" data-key=${key} maxlength="7" spellcheck="false"
            autocomplete="off" placeholder=${COLOR_DEFAULTS[key] || "#"} aria-describedby=${described}
            aria-invalid=${problem ? "true" : nothing} .value=${form[key]} @input=${onInput}>
        </div>
        ${problem ? html`<p class="field-error" id=${`${id}-problem`}>${problem}</p>` : nothing}
      </div>`;
    }

    function textFields() {
      const concepts = Object.keys(texts);
      if (!concepts.length) return html`<p class="notice not-available">${t("ad_texts_unavailable")}</p>`;
      return html`<p class="hint">${t("ad_texts_hint")}</p>
        ${concepts.map((concept) => html`<div class="lang-pair">
          ${["de", "en"].map((language) => {
            const id = `brand-${concept}-${language}`;
            return html`<div class="field">
              <label for=${id}>${t(`ad_in_${language}`, { name: t(TEXT_LABEL[concept]) })}</label>
              <textarea id=${id} name="branding.${concept}.${language}" data-key="${concept}.${language}" lang=${language}
                rows=${concept === "welcome" ? 4 : 8} .value=${form[`${concept}.${language}`]} @input=${onInput}></textarea>
            </div>`;
          })}</div>`)}`;
    }

    function contrastView() {
      const preview = (element) => {
        if (!element) return;
        element.style.setProperty("background-color", colorOf("background_color") || "#ffffff");
        element.style.setProperty("color", colorOf("text_color") || "#1a1a1a");
        const accent = element.querySelector(".preview-accent");
        if (accent) accent.style.setProperty("color", colorOf("primary_color") || "#005ca9");
      };
      return html`<div class="contrast-preview" aria-hidden="true" ${ref(preview)}>
          <span class="preview-accent">${t("ad_preview_heading", { name })}</span><br>${t("ad_preview_text")}</div>
        ${pairs.map(([fg, bg]) => {
          const value = ratioOf([fg, bg]);
          const passes = value != null && value >= AA;
          return html`<p id="contrast-${fg}" class="contrast-result ${value == null ? "" : passes ? "pass" : "fail"}">
            ${value == null ? t("ad_color_hint") : html`${passes ? "✓" : "✗"} ${t("ad_contrast_pair", { fg: t(`ad_${fg}`), bg: t(`ad_${bg}`) })}:
              ${t("ad_contrast", { ratio: formatNumber(value, 2) })} – ${passes ? t("ad_contrast_ok") : t("ad_contrast_fail")}`}</p>`;
        })}
        <p class="visually-hidden" aria-live="polite">${failing().length ? t("ad_contrast_live_fail") : ""}</p>`;
    }

    function view() {
      const logo = /^(https?:\/\/|data:image\/)/.test(form.logo_url.trim()) ? form.logo_url.trim() : "";
      const embedded = form.logo_url.startsWith("data:");
      return html`<form novalidate @submit=${save} class="branding-form">
        <div class="field">
          <label for="brand-display_name">${t("ad_display_name")}</label>
          <span class="hint" id="brand-display_name-hint">${t("ad_display_name_hint")}</span>
          <input type="text" id="brand-display_name" name="branding.display_name" data-key="display_name" maxlength="140"
            aria-describedby="brand-display_name-hint" .value=${form.display_name} @input=${onInput}>
        </div>
        <fieldset data-field="branding">
          <legend>${t("ad_colors")}</legend>
          <p class="hint">${t("ad_colors_hint")}</p>
          <div class="row">${colors.map(colorField)}</div>
          ${contrastView()}
        </fieldset>
        <fieldset data-field="branding.logo_url">
          <legend>${t("ad_logo_legend")}</legend>
          <div class="field">
            <label for="brand-logo_url">${t("ad_logo")}</label>
            <span class="hint" id="brand-logo-hint">${t("ad_logo_hint")}</span>
            <input type="url" id="brand-logo_url" name="branding.logo_url" data-key="logo_url" inputmode="url" placeholder="https://"
              aria-describedby="brand-logo-hint" .value=${embedded ? "" : form.logo_url} @input=${onInput}>
          </div>
          <div class="field">
            <label for="brand-logo-file">${t("ad_logo_file")}</label>
            <span class="hint" id="brand-logo-file-hint">${t("ad_logo_file_hint")}</span>
            <input type="file" id="brand-logo-file" accept="image/png,image/jpeg,image/webp,image/gif,image/svg+xml"
              aria-describedby="brand-logo-file-hint${state.logoError ? " brand-logo-file-error" : ""}"
              aria-invalid=${state.logoError ? "true" : nothing} @change=${onLogoFile}>
            ${state.logoError ? html`<p class="field-error" id="brand-logo-file-error">${state.logoError}</p>` : nothing}
          </div>
          ${logo ? html`<p class="logo-row"><img class="logo-preview" src=${logo} alt=${t("ad_logo_preview")}>
            ${embedded ? html`<span class="muted">${t("ad_logo_embedded")}</span>` : nothing}
            <button type="button" class="link-button" @click=${removeLogo}>${t("ad_logo_remove")}</button></p>` : nothing}
        </fieldset>
        <fieldset>
          <legend>${t("ad_texts")}</legend>
          ${textFields()}
          <p><a href="#/impressum">${t("ad_view_legal")}</a> · <a href="#/datenschutz">${t("ad_view_privacy")}</a></p>
        </fieldset>
        <div class="actions"><button type="submit" class="primary" aria-disabled=${state.busy ? "true" : "false"}>${t("ad_save_branding")}</button>
          ${state.saved ? html`<span class="notice ok saved-note" role="status">${state.savedText}</span>` : nothing}</div>
      </form>
      ${cardForm()}`;
    }

    // The threshold of the municipality's volunteer card (Ehrenamtskarte), a form of its own.
    const card = { busy: false, saved: "" };
    async function saveCard(event) {
      event.preventDefault();
      const element = event.target;
      clearErrors(element);
      const value = String(new FormData(element).get("volunteer_card.hours_per_year") || "").trim();
      card.busy = true; card.saved = ""; redraw();
      try {
        tenant = await api(`/tenants/${encodeURIComponent(tenantId)}`, { method: "PATCH",
          body: { volunteer_card: { hours_per_year: value === "" ? null : Number(value) }, version: tenant.version } });
        card.saved = t("ad_card_saved", { hours: formatNumber(tenant.volunteer_card?.hours_per_year ?? Number(value), 0) });
        ctx.announce(card.saved);
      } catch (error) {
        card.busy = false; redraw();
        if (error.name === "AbortError") return;
        if (error instanceof ApiError) error.details = error.details.map((d) => ({ ...d, field: d.field.replace(/^body\./, "") }));
        showErrors(element, error);
        return;
      }
      card.busy = false; redraw();
    }

    function cardForm() {
      const hours = tenant.volunteer_card?.hours_per_year ?? 250;
      return html`<form novalidate class="card-form" @submit=${saveCard}>
        <fieldset>
          <legend>${t("ad_card")}</legend>
          <div class="field">
            <label for="card-hours">${t("ad_card_hours")}</label>
            <span class="hint" id="card-hours-hint">${t("ad_card_hint")}</span>
            <input type="number" id="card-hours" name="volunteer_card.hours_per_year" min="1" max="2000" step="1"
              inputmode="numeric" aria-describedby="card-hours-hint" .value=${String(hours)}>
          </div>
        </fieldset>
        <div class="actions"><button type="submit" class="primary" aria-disabled=${card.busy ? "true" : "false"}>${t("ad_card_save")}</button>
          ${card.saved ? html`<span class="notice ok saved-note" role="status">${card.saved}</span>` : nothing}</div>
      </form>`;
    }

    redraw();
  }

  // ---- moderation ---------------------------------------------------------------------------
  async function moderationSection() {
    const status = ctx.query.status === "hidden" ? "hidden" : "published";
    const kind = ["offer", "need"].includes(ctx.query.kind) ? ctx.query.kind : "";
    const state = { loading: true, error: null, unavailable: false, items: [], next: null, busy: new Set(),
      errors: new Map(), actors: new Map() };
    const redraw = () => { if (ctx.isCurrent()) draw(frame(view()), ctx.main); };

    async function load(cursor) {
      try {
        const answer = await api("/moderation/items", {
          query: { status, kind, after: cursor, tenant: operator ? tenantId : undefined, limit: 20 }, signal: ctx.signal });
        const items = answer.items || [];
        state.items = cursor ? [...state.items, ...items] : items;
        state.next = answer.next_cursor || null;
        await Promise.all(items.map(async (item) => {
          if (!item.actor_id || state.actors.has(item.actor_id) || item.actor_name) return;
          state.actors.set(item.actor_id, null);
          try { state.actors.set(item.actor_id, (await api(`/actors/${encodeURIComponent(item.actor_id)}`, { signal: ctx.signal })).name); }
          catch (error) { if (error.name === "AbortError") throw error; }
        }));
        return items;
      } catch (error) {
        if (error.name === "AbortError") throw error;
        if (notAvailable(error)) state.unavailable = true;
        else state.error = error;
        return [];
      }
    }

    async function hide(event, item) {
      event.preventDefault();
      const element = event.target;
      clearErrors(element);
      const reason = String(new FormData(element).get("reason") || "").trim();
      if (!reason) {
        showErrors(element, new ApiError({ status: 422, code: "validation_error",
          details: [{ field: "reason", message: t("ad_mod_reason_missing"), type: "missing" }] }));
        return;
      }
      await act(item, "hide", { reason }, element);
    }

    async function act(item, action, body, element) {
      state.busy.add(item.id); state.errors.delete(item.id); redraw();
      try {
        const updated = await api(`/${item.kind}s/${encodeURIComponent(item.id)}/${action}`, { method: "POST", body });
        Object.assign(item, updated || {}, { status: action === "hide" ? "hidden" : "published" });
        if (action === "hide") item.hidden_reason = (updated && updated.hidden_reason) || body.reason;
        ctx.announce(t(action === "hide" ? "ad_mod_hidden_now" : "ad_mod_unhidden_now", { title: item.title }));
      } catch (error) {
        if (error.name !== "AbortError") {
          if (action === "hide" && element && error instanceof ApiError && error.details.length) {
            state.busy.delete(item.id); redraw(); showErrors(element, error); return;
          }
          state.errors.set(item.id, action === "unhide" && notAvailable(error) ? t("ad_mod_unhide_unavailable") : errorText(error));
        }
      }
      state.busy.delete(item.id); redraw();
      ctx.main.querySelector(`#mod-${CSS.escape(item.id)} h2`)?.focus();
    }

    function itemView(item) {
      const busy = state.busy.has(item.id);
      const error = state.errors.get(item.id);
      const actorName = item.actor_name || state.actors.get(item.actor_id);
      const headingId = `mod-${item.id}-title`;
      const hidden = item.status === "hidden";
      return html`<li class="card moderation-item" id="mod-${item.id}" aria-labelledby=${headingId}>
        <h2 id=${headingId} tabindex="-1"><a href=${itemHref(item.kind, item.id)}>${item.title}</a></h2>
        <p class="meta"><span class="badge kind-${item.kind}">${t(item.kind)}</span>
          ${hidden ? html`<span class="badge status-hidden">${t("status_hidden")}</span>` : nothing}
          ${actorName ? t("ad_mod_by", { name: actorName }) : nothing}
          ${item.place_name ? html` · ${item.place_name}` : nothing}
          ${item.created_at ? html` · ${t("ad_mod_created", { date: formatDate(item.created_at) })}` : nothing}</p>
        ${item.description ? html`<p class="wrap-anywhere">${item.description.length > 280 ? `${item.description.slice(0, 280)} …` : item.description}</p>` : nothing}
        ${error ? html`<p class="notice error" role="alert">${error}</p>` : nothing}
        ${hidden
          ? html`${item.hidden_reason ? html`<p class="hidden-reason">${t("ad_mod_hidden_reason", { reason: item.hidden_reason })}</p>` : nothing}
            <div class="actions"><button type="button" ?disabled=${busy} aria-describedby=${headingId}
              @click=${() => act(item, "unhide", undefined)}>${t("ad_mod_unhide")}</button></div>`
          : html`<form class="inline-form" novalidate @submit=${(event) => hide(event, item)}>
              <div class="field reason-field">
                <label for="reason-${item.id}">${t("ad_mod_reason")}</label>
                <span class="hint" id="reason-${item.id}-hint">${t("ad_mod_reason_hint")}</span>
                <input type="text" id="reason-${item.id}" name="reason" maxlength="500" required
                  aria-describedby="reason-${item.id}-hint">
              </div>
              <button type="submit" class="danger" ?disabled=${busy} aria-describedby=${headingId}>${t("ad_mod_hide")}</button>
            </form>`}
      </li>`;
    }

    function filters() {
      const apply = (event) => {
        event.preventDefault();
        ctx.navigate(link("moderation", { status, kind: new FormData(event.target).get("kind") }));
      };
      return html`<div class="toolbar">
        <nav class="segmented" aria-label=${t("ad_mod_status")}>
          <a href=${link("moderation", { kind })} aria-current=${status === "published" ? "page" : nothing}>${t("ad_mod_published")}</a>
          <a href=${link("moderation", { kind, status: "hidden" })} aria-current=${status === "hidden" ? "page" : nothing}>${t("ad_mod_hidden")}</a>
        </nav>
        <form class="inline-form" @submit=${apply}>
          <div class="field"><label for="mod-kind">${t("ad_mod_kind")}</label>
            <select id="mod-kind" name="kind">
              <option value="" ?selected=${!kind}>${t("ad_mod_all_kinds")}</option>
              <option value="offer" ?selected=${kind === "offer"}>${t("offers")}</option>
              <option value="need" ?selected=${kind === "need"}>${t("needs")}</option>
            </select></div>
          <button type="submit">${t("ad_mod_filter")}</button>
        </form>
      </div>`;
    }

    function view() {
      if (state.loading) return loading();
      if (state.unavailable) return html`<p class="notice not-available" role="status">${t("ad_not_available")}</p>`;
      return html`${filters()}
        ${state.error ? errorBox(state.error) : nothing}
        ${state.items.length ? html`<ul class="cards">${state.items.map(itemView)}</ul>`
          : (state.error ? nothing : html`<p class="notice">${t("ad_mod_empty")}</p>`)}
        ${state.next ? html`<p><button type="button" @click=${async () => {
          const before = state.items.length;
          await load(state.next); redraw();
          const first = state.items[before];
          if (first) ctx.main.querySelector(`#mod-${CSS.escape(first.id)} h2`)?.focus();
        }}>${t("ad_mod_more")}</button></p>` : nothing}`;
    }

    redraw();
    await load();
    state.loading = false;
    redraw();
  }

  // ---- statistics ---------------------------------------------------------------------------
  async function statsSection() {
    const state = { loading: true, error: null, unavailable: false, stats: null };
    const redraw = () => { if (ctx.isCurrent()) draw(frame(view()), ctx.main); };
    const statsPath = `/tenants/${encodeURIComponent(tenantId)}/stats`;

    const columnName = (key) => {
      const text = t(`ad_stats_${key}`);
      return text === `ad_stats_${key}` ? key.replace(/_/g, " ") : text;
    };
    const cell = (value) => {
      if (value == null || value === "") return t("ad_stats_no_value");
      return typeof value === "number" ? formatNumber(value, Number.isInteger(value) ? 0 : 1) : String(value);
    };
    const monthName = (month) => {
      const match = /^(\d{4})-(\d{2})$/.exec(String(month || ""));
      if (!match) return String(month || "");
      const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 15));
      return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "de-DE", { month: "long", year: "numeric", timeZone: "UTC" }).format(date);
    };

    async function downloadCsv(event) {
      const button = event.currentTarget;
      try {
        const response = await fetch(`${API_PREFIX}${statsPath}?format=csv`, {
          headers: { Accept: "text/csv", "Accept-Language": lang(), Authorization: `Bearer ${session.token}` } });
        if (!response.ok) {
          let data = null;
          try { data = await response.json(); } catch { data = null; }
          const error = (data && data.error) || {};
          throw new ApiError({ status: response.status, code: error.code || `http_${response.status}`, message: error.message, details: error.details });
        }
        const blob = await response.blob();
        const url = URL.createObjectURL(blob);
        const file = `statistik-${tenantId}-${new Date().toLocaleDateString("sv-SE")}.csv`;
        const anchor = document.createElement("a");
        anchor.href = url; anchor.download = file; anchor.hidden = true;
        document.body.append(anchor); anchor.click(); anchor.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
        ctx.announce(t("ad_stats_csv_done", { file }));
      } catch (error) {
        ctx.announce(notAvailable(error) ? t("ad_not_available") : errorText(error));
        state.csvError = notAvailable(error) ? t("ad_not_available") : errorText(error);
        redraw();
      }
      button.focus();
    }

    function table(rows, firstKey, firstName, captionKey, firstLabel) {
      if (!rows || !rows.length) return html`<p class="muted">${t("ad_stats_none")}</p>`;
      const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))].filter((key) => key !== firstKey);
      const captionId = `caption-${firstKey}`;
      return html`<div class="table-wrap" role="region" aria-labelledby=${captionId} tabindex="0">
        <table class="data-table">
          <caption id=${captionId}>${t(captionKey, { name })}</caption>
          <thead><tr><th scope="col">${firstName}</th>${columns.map((c) => html`<th scope="col" class="num">${columnName(c)}</th>`)}</tr></thead>
          <tbody>${rows.map((row) => html`<tr><th scope="row">${firstLabel(row[firstKey])}</th>
            ${columns.map((c) => html`<td class="num">${cell(row[c])}</td>`)}</tr>`)}</tbody>
        </table></div>`;
    }

    function view() {
      if (state.loading) return loading();
      if (state.unavailable) return html`<p class="notice not-available" role="status">${t("ad_not_available")}</p>`;
      if (state.error) return errorBox(state.error, { retry: () => ctx.navigate(window.location.hash) });
      const stats = state.stats || {};
      const totals = stats.totals || {};
      return html`
        <h2>${t("ad_stats_totals")}</h2>
        <ul class="stat-tiles">${Object.entries(totals).map(([key, value]) => html`<li>
          <span class="value">${cell(value)}</span> <span class="name">${columnName(key)}</span></li>`)}</ul>
        ${ENGAGEMENT_FIGURES.some((key) => key in stats) ? html`<h2>${t("ad_stats_engagement")}</h2>
          <ul class="stat-tiles">${ENGAGEMENT_FIGURES.filter((key) => key in stats).map((key) => html`<li>
            <span class="value">${cell(stats[key])}</span> <span class="name">${columnName(key)}</span></li>`)}</ul>` : nothing}
        <p><button type="button" @click=${downloadCsv}>${t("ad_stats_csv")}</button></p>
        ${state.csvError ? html`<p class="notice error" role="alert">${state.csvError}</p>` : nothing}
        <h2>${t("ad_stats_by_month")}</h2>
        ${table(stats.by_month, "month", t("ad_stats_month"), "ad_stats_caption_month", monthName)}
        <h2>${t("ad_stats_by_category")}</h2>
        ${table(stats.by_category, "category", t("ad_stats_category"), "ad_stats_caption_category",
          (category) => ctx.vocab.label("categories", category))}`;
    }

    redraw();
    try {
      state.stats = await api(statsPath, { signal: ctx.signal });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      if (notAvailable(error)) state.unavailable = true;
      else state.error = error;
    }
    state.loading = false;
    redraw();
  }
}

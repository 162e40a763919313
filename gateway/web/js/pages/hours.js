// #/me/hours — "Meine Stunden": the person's confirmed hours of a year by organisation, the years
// so far, where they stand towards the municipality's Ehrenamtskarte, and the certificate
// (Engagementnachweis, PDF) of the year to download.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, apiBlob } from "../core/api.js";
import { formatNumber } from "../core/format.js";
import { errorText } from "../core/i18n.js";
import { berlinDay, personActor, saveBlob } from "../core/shifts.js";
import { errorBox, loading, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: {
    ho_title: "Meine Stunden", ho_intro: "Die Stunden, die Organisationen Ihnen nach Ihren Einsätzen bestätigt haben.",
    ho_engagements_link: "Zu meinen Einsätzen", ho_year: "Jahr", ho_show: "Anzeigen",
    ho_need_person: "Stunden werden für persönliche Profile gezählt. Sie haben noch keins.", ho_new_person: "Persönliches Profil anlegen",
    ho_year_total: "Bestätigte Stunden {year}", ho_total: "Insgesamt (alle Jahre): {hours}",
    ho_by_org: "Nach Organisation", ho_org: "Organisation", ho_hours: "Stunden", ho_none: "Für {year} sind noch keine Stunden bestätigt.",
    ho_by_year: "Nach Jahr",
    ho_card: "Ehrenamtskarte", ho_card_text: "Die Ehrenamtskarte bekommt, wer sich im Jahr mindestens {threshold} Stunden engagiert.",
    ho_card_progress: "{hours} von {threshold} Stunden", ho_card_label: "Fortschritt zur Ehrenamtskarte {year}",
    ho_card_missing: "Es fehlen noch {hours} Stunden.", ho_card_reached: "Geschafft: Sie haben die Stunden für die Ehrenamtskarte {year} erreicht.",
    ho_certificate: "Engagementnachweis", ho_certificate_text: "Ein PDF mit Ihren bestätigten Stunden {year}, den Organisationen und den Daten Ihrer Einsätze.",
    ho_download: "Engagementnachweis herunterladen (PDF)", ho_download_busy: "Nachweis wird erstellt …",
    ho_downloaded: "Download gestartet: {file}",
    ho_hours_value: "{hours} Std.",
  },
  en: {
    ho_title: "My hours", ho_intro: "The hours organisations have confirmed for you after your engagements.",
    ho_engagements_link: "To my engagements", ho_year: "Year", ho_show: "Show",
    ho_need_person: "Hours are counted for personal profiles. You do not have one yet.", ho_new_person: "Create a personal profile",
    ho_year_total: "Confirmed hours {year}", ho_total: "In total (all years): {hours}",
    ho_by_org: "By organisation", ho_org: "Organisation", ho_hours: "Hours", ho_none: "No hours confirmed for {year} yet.",
    ho_by_year: "By year",
    ho_card: "Volunteer card (Ehrenamtskarte)", ho_card_text: "The volunteer card is for people who volunteer at least {threshold} hours a year.",
    ho_card_progress: "{hours} of {threshold} hours", ho_card_label: "Progress towards the volunteer card {year}",
    ho_card_missing: "{hours} hours to go.", ho_card_reached: "Done: you have reached the hours for the volunteer card {year}.",
    ho_certificate: "Certificate of engagement", ho_certificate_text: "A PDF with your confirmed hours {year}, the organisations and the dates of your engagements.",
    ho_download: "Download certificate of engagement (PDF)", ho_download_busy: "Creating the certificate …",
    ho_downloaded: "Download started: {file}",
    ho_hours_value: "{hours} h",
  },
};

export function title(ctx) { return ctx.t("ho_title"); }

const number = (value) => formatNumber(value ?? 0, 2);

export async function render(ctx) {
  const { t, session, main } = ctx;
  if (!session.signedIn) {
    draw(html`<h1>${t("ho_title")}</h1>${signInNeeded()}`, main);
    return;
  }
  const thisYear = Number(berlinDay(new Date()).slice(0, 4));
  const asked = Number(ctx.query.year);
  const year = Number.isInteger(asked) && asked >= 2000 && asked <= thisYear + 1 ? asked : thisYear;
  const state = { person: undefined, hours: null, error: null, downloading: false, downloadError: null };
  const redraw = () => { if (ctx.isCurrent()) draw(view(), main); };

  function chooseYear(event) {
    event.preventDefault();
    const chosen = new FormData(event.target).get("year");
    ctx.navigate(`#/me/hours?year=${encodeURIComponent(chosen)}`);
  }

  async function download(event) {
    const button = event.currentTarget;
    state.downloading = true; state.downloadError = null; redraw();
    try {
      const blob = await apiBlob(`/actors/${encodeURIComponent(state.person.id)}/certificate.pdf`,
        { query: { year }, signal: ctx.signal });
      const file = `engagementnachweis-${year}.pdf`;
      saveBlob(blob, file);
      ctx.announce(t("ho_downloaded", { file }));
    } catch (error) {
      if (error.name === "AbortError") return;
      state.downloadError = error;
      ctx.announce(errorText(error));
    }
    state.downloading = false; redraw();
    button.focus();
  }

  function yearForm() {
    const years = new Set([thisYear, year, ...((state.hours && state.hours.by_year) || []).map((y) => y.year)]);
    return html`<form class="inline-form year-form" @submit=${chooseYear}>
      <div class="field"><label for="ho-year">${t("ho_year")}</label>
        <select id="ho-year" name="year">${[...years].sort((a, b) => b - a).map((y) => html`<option value=${y}
          ?selected=${y === year}>${y}</option>`)}</select></div>
      <button type="submit">${t("ho_show")}</button>
    </form>`;
  }

  function cardView(hours) {
    const card = hours.card || {};
    const threshold = card.threshold_hours_per_year || 0;
    const done = Math.min(card.hours ?? hours.hours ?? 0, threshold || 0);
    const progress = t("ho_card_progress", { hours: number(card.hours ?? hours.hours), threshold: number(threshold) });
    return html`<section class="card stacked volunteer-card" aria-labelledby="ho-card">
      <h2 id="ho-card">${t("ho_card")}</h2>
      <p>${t("ho_card_text", { threshold: number(threshold) })}</p>
      <p class="card-progress-text" id="ho-card-text"><strong>${progress}</strong></p>
      <progress max=${threshold || 1} .value=${done} aria-label=${t("ho_card_label", { year })}
        aria-describedby="ho-card-text" aria-valuetext=${progress}></progress>
      <p class=${card.reached ? "notice ok" : "meta"}>${card.reached ? t("ho_card_reached", { year })
        : t("ho_card_missing", { hours: number(card.missing_hours) })}</p>
    </section>`;
  }

  function hoursView(hours) {
    const orgs = hours.by_organisation || [];
    const years = hours.by_year || [];
    return html`
      <section class="card stacked" aria-labelledby="ho-year-total">
        <h2 id="ho-year-total">${t("ho_year_total", { year })}: ${number(hours.hours)}</h2>
        <p class="meta">${t("ho_total", { hours: number(hours.total_hours) })}</p>
        <h3>${t("ho_by_org")}</h3>
        ${orgs.length ? html`<table class="hours-table">
            <caption class="visually-hidden">${t("ho_by_org")} ${year}</caption>
            <thead><tr><th scope="col">${t("ho_org")}</th><th scope="col" class="number">${t("ho_hours")}</th></tr></thead>
            <tbody>${orgs.map((org) => html`<tr><th scope="row"><a href=${`#/actors/${encodeURIComponent(org.actor_id)}`}>${org.name || org.actor_id}</a></th>
              <td class="number">${number(org.hours)}</td></tr>`)}</tbody>
          </table>` : html`<p>${t("ho_none", { year })}</p>`}
        ${years.length ? html`<h3>${t("ho_by_year")}</h3>
          <ul class="year-list">${years.map((y) => html`<li><a href=${`#/me/hours?year=${y.year}`}
            aria-current=${y.year === year ? "page" : nothing}>${y.year}</a>: ${t("ho_hours_value", { hours: number(y.hours) })}</li>`)}</ul>` : nothing}
      </section>
      ${cardView(hours)}
      <section class="card stacked" aria-labelledby="ho-certificate">
        <h2 id="ho-certificate">${t("ho_certificate")}</h2>
        <p>${t("ho_certificate_text", { year })}</p>
        ${state.downloadError ? errorBox(state.downloadError) : nothing}
        <button type="button" class="primary" id="ho-download" ?disabled=${state.downloading}
          aria-busy=${state.downloading ? "true" : "false"} @click=${download}>
          ${state.downloading ? t("ho_download_busy") : t("ho_download")}</button>
      </section>`;
  }

  function view() {
    return html`<h1>${t("ho_title")}</h1>
      <p>${t("ho_intro")} <a href="#/me/engagements">${t("ho_engagements_link")}</a></p>
      ${state.person === null ? html`<p class="notice">${t("ho_need_person")} <a href="#/actors/new">${t("ho_new_person")}</a></p>`
        : html`${yearForm()}
          ${state.error ? errorBox(state.error) : state.hours === null ? loading() : hoursView(state.hours)}`}`;
  }

  redraw();
  try {
    state.person = await personActor(session, { signal: ctx.signal });
    if (state.person) {
      state.hours = await api(`/actors/${encodeURIComponent(state.person.id)}/hours`, { query: { year }, signal: ctx.signal });
    }
  } catch (error) {
    if (error.name === "AbortError") return;
    state.error = error;
  }
  redraw();
}

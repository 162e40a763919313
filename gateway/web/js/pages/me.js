// #/me: the caller's own data: download everything (GET /me/export) and erase the account
// (DELETE /me) after a confirmation step; afterwards the session ends and a confirmation shows.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api } from "../core/api.js";
import { errorText } from "../core/i18n.js";
import { errorBox, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: {
    me_title: "Meine Daten",
    me_intro: "Hier laden Sie alles herunter, was die Plattform über Sie speichert, oder löschen Ihr Konto.",
    me_export_title: "Meine Daten herunterladen",
    me_export_text: "Sie erhalten eine JSON-Datei mit Ihren Profilen, Angeboten, Gesuchen, Vorschlägen, Kontaktanfragen, Benachrichtigungen und Einstellungen (Auskunft nach Art. 15 und Datenübertragbarkeit nach Art. 20 DSGVO).",
    me_export_button: "Meine Daten herunterladen", me_export_busy: "Daten werden zusammengestellt …",
    me_export_done: "Download gestartet: {file}",
    me_delete_title: "Konto löschen",
    me_delete_intro: "Wenn Sie Ihr Konto löschen, geschieht Folgendes:",
    me_delete_person: "Ihre persönlichen Profile (Privatperson), die nur Sie verwalten, werden gelöscht.",
    me_delete_items: "Deren Angebote und Gesuche werden geschlossen; Beschreibung und Ort werden entfernt. Sie erscheinen nicht mehr in Suche und Vorschlägen.",
    me_delete_contacts: "Ihre Kontaktanfragen (gesendet und erhalten, mit Nachrichten) werden gelöscht.",
    me_delete_notifications: "Ihre Benachrichtigungen, Einstellungen und der Versandverlauf werden gelöscht.",
    me_delete_orgs: "Organisationen (Verein, Initiative, Bildungseinrichtung, Unternehmen) und Profile, die Sie gemeinsam mit anderen verwalten, werden nicht gelöscht: Sie werden dort nur als verwaltende Person entfernt, die Organisation und ihre Einträge bleiben bestehen.",
    me_delete_only_owner: "Sind Sie die einzige Person, die eine Organisation verwaltet, können Sie Ihr Konto erst löschen, wenn Sie eine weitere Person als Mitglied mit Verwaltungsrecht hinzugefügt oder die Organisation geschlossen haben. So bleibt keine Organisation ohne Verwaltung zurück.",
    me_delete_blocked: "Ihr Konto wurde nicht gelöscht: Sie sind die letzte Person, die diese Organisationen verwaltet. Fügen Sie bei jeder eine weitere Person als Mitglied hinzu oder schließen Sie die Organisation, und versuchen Sie es dann erneut.",
    me_delete_members: "Mitglieder von {name} verwalten oder die Organisation schließen",
    me_delete_final: "Das Löschen kann nicht rückgängig gemacht werden. Laden Sie vorher Ihre Daten herunter, wenn Sie sie behalten möchten.",
    me_delete_start: "Konto löschen …",
    me_confirm_word: "LÖSCHEN",
    me_confirm_label: "Zur Bestätigung geben Sie {word} ein",
    me_confirm_mismatch: "Bitte geben Sie genau {word} ein.",
    me_delete_confirm: "Konto endgültig löschen", me_delete_busy: "Konto wird gelöscht …",
    me_deleted_title: "Ihr Konto wurde gelöscht",
    me_deleted_text: "Sie sind abgemeldet. Ihre Daten werden aus allen Teilen der Plattform entfernt; Suche und Benachrichtigungen folgen innerhalb weniger Sekunden.",
    me_deleted_erased: "Gelöschte persönliche Profile: {n}",
    me_deleted_closed: "Geschlossene Angebote und Gesuche: {n}",
    me_deleted_left: "Organisationen, aus deren Verwaltung Sie entfernt wurden: {n}",
    me_home: "Zur Startseite",
    me_settings_link: "Benachrichtigungen einstellen",
    me_engagements_link: "Meine Einsätze und Kalender", me_hours_link: "Meine Stunden und Engagementnachweis",
  },
  en: {
    me_title: "My data",
    me_intro: "Download everything the platform stores about you, or delete your account.",
    me_export_title: "Download my data",
    me_export_text: "You get a JSON file with your profiles, offers, needs, suggestions, contact requests, notifications and settings (access under Art. 15 and portability under Art. 20 GDPR).",
    me_export_button: "Download my data", me_export_busy: "Collecting your data …",
    me_export_done: "Download started: {file}",
    me_delete_title: "Delete account",
    me_delete_intro: "When you delete your account, this happens:",
    me_delete_person: "Your personal profiles (private person) that only you manage are deleted.",
    me_delete_items: "Their offers and needs are closed; description and place are removed. They no longer appear in search and suggestions.",
    me_delete_contacts: "Your contact requests (sent and received, with their messages) are deleted.",
    me_delete_notifications: "Your notifications, settings and delivery history are deleted.",
    me_delete_orgs: "Organisations (association, initiative, education, company) and profiles you manage together with others are not deleted: you are only removed as one of their managers; the organisation and its entries remain.",
    me_delete_only_owner: "If you are the only person managing an organisation, you can delete your account only after adding another person as a member with admin rights or closing the organisation, so that no organisation is left without managers.",
    me_delete_blocked: "Your account was not deleted: you are the last person managing these organisations. Add another person as a member of each or close the organisation, then try again.",
    me_delete_members: "Manage the members of {name} or close the organisation",
    me_delete_final: "Deleting cannot be undone. Download your data first if you want to keep it.",
    me_delete_start: "Delete account …",
    me_confirm_word: "DELETE",
    me_confirm_label: "To confirm, type {word}",
    me_confirm_mismatch: "Please type exactly {word}.",
    me_delete_confirm: "Delete account permanently", me_delete_busy: "Deleting account …",
    me_deleted_title: "Your account has been deleted",
    me_deleted_text: "You are signed out. Your data is being removed from every part of the platform; search and notifications follow within a few seconds.",
    me_deleted_erased: "Personal profiles deleted: {n}",
    me_deleted_closed: "Offers and needs closed: {n}",
    me_deleted_left: "Organisations you were removed from as a manager: {n}",
    me_home: "To the home page",
    me_settings_link: "Notification settings",
    me_engagements_link: "My engagements and calendar", me_hours_link: "My hours and certificate",
  },
};

const ERASED_KEY = "engage.erased";

export function title(ctx) {
  return ctx.query.deleted && !ctx.session.signedIn ? ctx.t("me_deleted_title") : ctx.t("me_title");
}

function deletedView(t) {
  let result = null;
  try { result = JSON.parse(sessionStorage.getItem(ERASED_KEY) || "null"); } catch { result = null; }
  const count = (list) => (Array.isArray(list) ? list.length : 0);
  return html`<h1>${t("me_deleted_title")}</h1>
    <div class="notice ok deleted-note"><p>${t("me_deleted_text")}</p>
      ${result ? html`<ul>
        <li>${t("me_deleted_erased", { n: count(result.erased_actors) })}</li>
        <li>${t("me_deleted_closed", { n: count(result.closed_items) })}</li>
        <li>${t("me_deleted_left", { n: count(result.left_actors) })}</li></ul>` : nothing}
    </div>
    <p><a href="#/">${t("me_home")}</a></p>`;
}

export async function render(ctx) {
  const { t, session } = ctx;
  if (!session.signedIn) {
    draw(ctx.query.deleted ? deletedView(t) : html`<h1>${t("me_title")}</h1>${signInNeeded()}`, ctx.main);
    return;
  }
  const word = t("me_confirm_word");
  const state = { exporting: false, exportError: null, confirming: false, typed: "", mismatch: false,
    deleting: false, deleteError: null };
  const redraw = () => { if (ctx.isCurrent()) draw(view(), ctx.main); };

  async function download(event) {
    const button = event.currentTarget;
    state.exporting = true; state.exportError = null; redraw();
    try {
      const data = await api("/me/export", { signal: ctx.signal });
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const day = new Date().toLocaleDateString("sv-SE"); // YYYY-MM-DD, local
      const file = `engagement-meine-daten-${day}.json`;
      const link = document.createElement("a");
      link.href = url;
      link.download = file;
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      ctx.announce(t("me_export_done", { file }));
    } catch (error) {
      if (error.name === "AbortError") return;
      state.exportError = error;
    }
    state.exporting = false; redraw();
    button.focus();
  }

  function startDelete() {
    state.confirming = true; redraw();
    ctx.main.querySelector("#confirm-word")?.focus();
  }

  function cancelDelete() {
    state.confirming = false; state.typed = ""; state.mismatch = false; state.deleteError = null; redraw();
    ctx.main.querySelector("#delete-start")?.focus();
  }

  async function erase(event) {
    event.preventDefault();
    const typed = String(new FormData(event.target).get("confirm") || "").trim();
    state.typed = typed;
    if (typed.toLocaleUpperCase() !== word.toLocaleUpperCase()) {
      state.mismatch = true; redraw();
      ctx.main.querySelector("#confirm-word")?.focus();
      return;
    }
    state.mismatch = false; state.deleting = true; state.deleteError = null; redraw();
    try {
      const result = await api("/me", { method: "DELETE" });
      sessionStorage.setItem(ERASED_KEY, JSON.stringify(result || {}));
      // Signing out re-renders the page; the navigation after it (the later render wins) shows
      // the confirmation, which is reachable only signed out.
      session.signOut();
      ctx.navigate("#/me?deleted=1", { replace: true });
    } catch (error) {
      if (error.name === "AbortError") return;
      state.deleting = false; state.deleteError = error; redraw();
      ctx.main.querySelector("#delete-error")?.focus();
    }
  }

  function deleteErrorView(error) {
    // 409: the caller is the last owner of these organisations; each links to its page, where
    // members are added and the organisation can be closed.
    const orgs = error.code === "last_owner_of_organisations" && Array.isArray(error.raw) ? error.raw : null;
    if (!orgs) return html`<p>${errorText(error)}</p>`;
    return html`<p>${t("me_delete_blocked")}</p>
      <ul class="blocking-orgs">${orgs.map((org) => html`<li>
        <a href="#/actors/${encodeURIComponent(org.id)}/edit">${t("me_delete_members", { name: org.name })}</a></li>`)}</ul>`;
  }

  function confirmForm() {
    return html`<form class="confirm-delete" novalidate @submit=${erase}>
      ${state.deleteError ? html`<div class="notice error" role="alert" id="delete-error" tabindex="-1">
          ${deleteErrorView(state.deleteError)}</div>` : nothing}
      <div class="field">
        <label for="confirm-word">${t("me_confirm_label", { word })}</label>
        <input type="text" id="confirm-word" name="confirm" autocomplete="off" autocapitalize="characters"
          spellcheck="false" .value=${state.typed}
          aria-invalid=${state.mismatch ? "true" : nothing}
          aria-describedby=${state.mismatch ? "confirm-error" : nothing}>
        ${state.mismatch ? html`<p class="field-error" id="confirm-error">${t("me_confirm_mismatch", { word })}</p>` : nothing}
      </div>
      <div class="actions">
        <button type="submit" class="danger-solid" ?disabled=${state.deleting}>
          ${state.deleting ? t("me_delete_busy") : t("me_delete_confirm")}</button>
        <button type="button" ?disabled=${state.deleting} @click=${cancelDelete}>${t("cancel")}</button>
      </div>
    </form>`;
  }

  function view() {
    return html`<h1>${t("me_title")}</h1>
      <p>${t("me_intro")}</p>
      <section class="card" aria-labelledby="export-heading">
        <h2 id="export-heading">${t("me_export_title")}</h2>
        <p>${t("me_export_text")}</p>
        ${state.exportError ? errorBox(state.exportError) : nothing}
        <button type="button" class="primary" id="export-button" ?disabled=${state.exporting} aria-busy=${state.exporting ? "true" : "false"}
          @click=${download}>${state.exporting ? t("me_export_busy") : t("me_export_button")}</button>
      </section>
      <section class="card danger-zone" aria-labelledby="delete-heading">
        <h2 id="delete-heading">${t("me_delete_title")}</h2>
        <p>${t("me_delete_intro")}</p>
        <ul>
          <li>${t("me_delete_person")}</li>
          <li>${t("me_delete_items")}</li>
          <li>${t("me_delete_contacts")}</li>
          <li>${t("me_delete_notifications")}</li>
          <li>${t("me_delete_orgs")}</li>
        </ul>
        <p class="notice warn">${t("me_delete_only_owner")}</p>
        <p><strong>${t("me_delete_final")}</strong></p>
        ${state.confirming ? confirmForm()
          : html`<button type="button" class="danger" id="delete-start" @click=${startDelete}>${t("me_delete_start")}</button>`}
      </section>
      <ul class="me-links">
        <li><a href="#/me/engagements">${t("me_engagements_link")}</a></li>
        <li><a href="#/me/hours">${t("me_hours_link")}</a></li>
        <li><a href="#/settings/notifications">${t("me_settings_link")}</a></li>
      </ul>`;
  }

  redraw();
}

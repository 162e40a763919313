// #/actors/new and #/actors/:id/edit — create or edit an own profile: name, e-mail, place,
// language of e-mails, an organisation's logo, the members who may manage it, and closing an
// organisation for good (DELETE /actors/:id) after a confirmation step.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api } from "../core/api.js";
import { forgetActor } from "../core/account.js";
import { clearErrors, showErrors } from "../core/forms.js";
import { errorText, label, lang } from "../core/i18n.js";
import { isOwner } from "../core/items.js";
import { L, createMap, pointMarker } from "../core/map.js";
import { mountPlaceField } from "../core/places.js";
import { errorBox, loading, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: { ae_new: "Profil anlegen", ae_edit: "Profil bearbeiten", ae_type: "Art des Profils", ae_name: "Name",
    ae_name_hint: "2 bis 140 Zeichen.", ae_email: "E-Mail-Adresse", ae_email_hint: "Nur für Sie und, nach beidseitiger Zustimmung, Ihre Kontakte sichtbar.",
    ae_place: "Ort", ae_location: "Gewählter Ort: {name}", ae_on_map: "auf der Karte gesetzt", ae_map: "Karte: Klicken setzt den Ort",
    ae_locale: "Sprache der E-Mails", ae_logo: "Logo (Adresse eines Bildes, https://…)", ae_save: "Speichern", ae_create: "Profil anlegen",
    ae_saved: "Profil gespeichert.", ae_members: "Mitglieder mit Verwaltungsrecht", ae_members_intro: "Diese Konten dürfen das Profil und seine Einträge verwalten.",
    ae_you: "(Sie)", ae_remove: "Entfernen", ae_remove_label: "{sub} entfernen", ae_add: "Mitglied hinzufügen", ae_sub: "Kennung des Kontos (sub)",
    ae_added: "{sub} hinzugefügt.", ae_removed: "{sub} entfernt.", ae_not_owner: "Nur Mitglieder dürfen dieses Profil bearbeiten.",
    ae_person_private: "Bei Privatpersonen wird der Ort nur ungefähr (etwa 1 km) angezeigt.",
    ae_close_title: "Organisation schließen", ae_close_intro: "Wenn Sie {name} schließen, geschieht Folgendes:",
    ae_close_items: "Alle Angebote und Gesuche der Organisation werden geschlossen; Beschreibung und Ort werden entfernt. Sie erscheinen nicht mehr in Suche und Vorschlägen.",
    ae_close_contacts: "Die Kontaktanfragen der Organisation (gesendet und erhalten, mit Nachrichten) werden gelöscht.",
    ae_close_profile: "Das Profil wird gelöscht; niemand kann es mehr verwalten, auch die anderen Mitglieder nicht.",
    ae_close_final: "Das Schließen kann nicht rückgängig gemacht werden.",
    ae_close_start: "Organisation schließen …", ae_close_question: "{name} jetzt endgültig schließen?",
    ae_close_confirm: "Organisation endgültig schließen", ae_close_busy: "Organisation wird geschlossen …",
    ae_closed_title: "Organisation geschlossen", ae_closed_text: "{name} wurde geschlossen. Suche und Vorschläge folgen innerhalb weniger Sekunden.",
    ae_closed_items: "Geschlossene Angebote und Gesuche: {n}", ae_closed_me: "Zu „Meine Daten“ (zum Beispiel, um Ihr Konto zu löschen)",
    ae_closed_my: "Zu meinen Profilen und Einträgen" },
  en: { ae_new: "Create a profile", ae_edit: "Edit profile", ae_type: "Kind of profile", ae_name: "Name",
    ae_name_hint: "2 to 140 characters.", ae_email: "E-mail address", ae_email_hint: "Visible only to you and, once both sides agree, to your contacts.",
    ae_place: "Place", ae_location: "Chosen place: {name}", ae_on_map: "set on the map", ae_map: "Map: a click sets the place",
    ae_locale: "Language of e-mails", ae_logo: "Logo (address of an image, https://…)", ae_save: "Save", ae_create: "Create profile",
    ae_saved: "Profile saved.", ae_members: "Members with admin rights", ae_members_intro: "These accounts may manage the profile and its entries.",
    ae_you: "(you)", ae_remove: "Remove", ae_remove_label: "Remove {sub}", ae_add: "Add member", ae_sub: "Account id (sub)",
    ae_added: "{sub} added.", ae_removed: "{sub} removed.", ae_not_owner: "Only members may edit this profile.",
    ae_person_private: "For private persons the place is shown only approximately (about 1 km).",
    ae_close_title: "Close the organisation", ae_close_intro: "When you close {name}, this happens:",
    ae_close_items: "All offers and needs of the organisation are closed; description and place are removed. They no longer appear in search and suggestions.",
    ae_close_contacts: "Its contact requests (sent and received, with their messages) are deleted.",
    ae_close_profile: "The profile is deleted; nobody can manage it any more, the other members neither.",
    ae_close_final: "Closing cannot be undone.",
    ae_close_start: "Close the organisation …", ae_close_question: "Close {name} for good now?",
    ae_close_confirm: "Close the organisation for good", ae_close_busy: "Closing the organisation …",
    ae_closed_title: "Organisation closed", ae_closed_text: "{name} has been closed. Search and suggestions follow within a few seconds.",
    ae_closed_items: "Offers and needs closed: {n}", ae_closed_me: "To “My data” (for instance to delete your account)",
    ae_closed_my: "To my profiles and entries" },
};

export function title(ctx) { return ctx.t(ctx.params.id ? "ae_edit" : "ae_new"); }

export async function render(ctx) {
  const { t, main, vocab, session, params } = ctx;
  const editing = Boolean(params.id);
  const heading = t(editing ? "ae_edit" : "ae_new");
  if (!session.signedIn) { draw(html`<h1>${heading}</h1>${signInNeeded()}`, main); return; }
  draw(html`<h1>${heading}</h1>${loading()}`, main);

  let actor = null;
  if (editing) {
    try {
      actor = await api(`/actors/${encodeURIComponent(params.id)}`, { signal: ctx.signal });
    } catch (error) {
      if (error.name === "AbortError") return;
      draw(html`<h1>${heading}</h1>${errorBox(error)}`, main);
      return;
    }
    if (!isOwner(session, actor, null)) {
      draw(html`<h1>${heading}</h1><p class="notice error">${t("ae_not_owner")}</p>`, main);
      return;
    }
  }
  const state = {
    location: actor?.location || ctx.center,
    placeName: actor?.place_name ?? (ctx.tenant ? ctx.tenant.name : ""),
    busy: false, memberError: null,
    confirmingClose: false, closing: false, closeError: null, closed: null,
  };
  // Organisations show a logo on their public profile (the API refuses one for a private person).
  const supportsLogo = Boolean(actor && actor.type !== "person");

  function membersView() {
    if (!editing) return nothing;
    return html`<section aria-labelledby="ae-members"><h2 id="ae-members">${t("ae_members")}</h2>
      <p class="meta">${t("ae_members_intro")}</p>
      ${state.memberError ? html`<p class="notice error" role="alert">${errorText(state.memberError)}</p>` : nothing}
      <ul class="members">${(actor.owners || []).map((sub) => html`<li><span>${sub} ${sub === session.sub ? t("ae_you") : ""}</span>
        <button type="button" class="danger" aria-label=${t("ae_remove_label", { sub })} @click=${() => removeMember(sub)}>${t("ae_remove")}</button></li>`)}</ul>
      <form class="member-form" novalidate @submit=${addMember}>
        <div class="field"><label for="ae-sub">${t("ae_sub")}</label>
          <input id="ae-sub" name="sub" type="text" required maxlength="200" autocomplete="off"></div>
        <button type="submit">${t("ae_add")}</button>
      </form></section>`;
  }

  // Only organisations are closed here; a person deletes their own profile under "Meine Daten".
  function closeView() {
    if (!editing || actor.type === "person") return nothing;
    return html`<section class="card danger-zone" aria-labelledby="ae-close">
      <h2 id="ae-close">${t("ae_close_title")}</h2>
      <p>${t("ae_close_intro", { name: actor.name })}</p>
      <ul><li>${t("ae_close_items")}</li><li>${t("ae_close_contacts")}</li><li>${t("ae_close_profile")}</li></ul>
      <p><strong>${t("ae_close_final")}</strong></p>
      ${state.closeError ? html`<div class="notice error" role="alert" id="close-error" tabindex="-1">
        <p>${errorText(state.closeError)}</p></div>` : nothing}
      ${state.confirmingClose ? html`<div class="confirm-close">
          <p id="close-question" tabindex="-1"><strong>${t("ae_close_question", { name: actor.name })}</strong></p>
          <div class="actions">
            <button type="button" class="danger-solid" aria-describedby="close-question" ?disabled=${state.closing}
              @click=${closeOrganisation}>${state.closing ? t("ae_close_busy") : t("ae_close_confirm")}</button>
            <button type="button" ?disabled=${state.closing} @click=${cancelClose}>${t("cancel")}</button>
          </div></div>`
        : html`<button type="button" class="danger" id="close-start" @click=${startClose}>${t("ae_close_start")}</button>`}
    </section>`;
  }

  function closedView() {
    const count = Array.isArray(state.closed.closed_items) ? state.closed.closed_items.length : 0;
    return html`<h1 tabindex="-1">${t("ae_closed_title")}</h1>
      <div class="notice ok"><p>${t("ae_closed_text", { name: actor.name })}</p>
        <p>${t("ae_closed_items", { n: count })}</p></div>
      <ul><li><a href="#/me">${t("ae_closed_me")}</a></li><li><a href="#/my">${t("ae_closed_my")}</a></li></ul>`;
  }

  function view() {
    if (state.closed) return closedView();
    const type = actor?.type || "person";
    return html`<h1>${heading}</h1>
      <form class="actor-form" novalidate @submit=${onSubmit}>
        ${editing ? html`<p class="meta">${t("ae_type")}: ${vocab.label("actor-types", type)}</p>`
          : html`<div class="field"><label for="ae-type">${t("ae_type")}</label>
            <select id="ae-type" name="type">${vocab.list("actor-types").map((e) => html`<option value=${e.id}>${label(e.label)}</option>`)}</select></div>`}
        <div class="field"><label for="ae-name">${t("ae_name")}</label>
          <span class="hint" id="ae-name-hint">${t("ae_name_hint")}</span>
          <input id="ae-name" name="name" type="text" required minlength="2" maxlength="140" aria-describedby="ae-name-hint"
            .value=${actor?.name || ""}></div>
        <div class="field"><label for="ae-email">${t("ae_email")}</label>
          <span class="hint" id="ae-email-hint">${t("ae_email_hint")}</span>
          <input id="ae-email" name="email" type="email" required maxlength="254" autocomplete="email" aria-describedby="ae-email-hint"
            .value=${actor?.email || ""}></div>
        <div id="ae-place-host" data-field="location"></div>
        <p class="meta" id="ae-location-note">${state.locationNote || t("ae_location", { name: state.placeName || t("ae_on_map") })}</p>
        <p class="hint">${t("ae_person_private")}</p>
        <div class="item-map" id="ae-map"></div>
        <div class="field"><label for="ae-locale">${t("ae_locale")}</label>
          <select id="ae-locale" name="locale">
            <option value="de" ?selected=${(actor?.locale || lang()) === "de"}>Deutsch</option>
            <option value="en" ?selected=${(actor?.locale || lang()) === "en"}>English</option></select></div>
        ${supportsLogo ? html`<div class="field"><label for="ae-logo">${t("ae_logo")}</label>
          <input id="ae-logo" name="logo_url" type="url" maxlength="500" .value=${actor.logo_url || ""}></div>` : nothing}
        <div class="actions"><button type="submit" class="primary" ?disabled=${state.busy}>${t(editing ? "ae_save" : "ae_create")}</button>
          ${editing ? html`<a href=${`#/actors/${encodeURIComponent(actor.id)}`}>${t("cancel")}</a>` : nothing}</div>
      </form>
      ${membersView()}
      ${closeView()}`;
  }
  const redraw = () => { if (ctx.isCurrent()) draw(view(), main); };
  redraw();

  const note = (text) => { state.locationNote = text; redraw(); };
  mountPlaceField(main.querySelector("#ae-place-host"), { label: t("ae_place"), name: "place_name", value: state.placeName,
    tenants: ctx.tenants, onPick(option) {
      state.location = { lat: option.lat, lon: option.lon };
      state.placeName = option.name;
      note(t("ae_location", { name: option.name }));
      drawMarker(true);
    } });
  const map = createMap(main.querySelector("#ae-map"), { center: state.location, zoom: 12, tileUrl: ctx.config.map_tile_url,
    label: t("ae_map") });
  ctx.onCleanup(() => map.remove());
  const layer = L.layerGroup().addTo(map);
  function drawMarker(move) {
    layer.clearLayers();
    pointMarker(state.location, "actor").addTo(layer);
    if (move) map.setView([state.location.lat, state.location.lon]);
  }
  drawMarker(false);
  map.on("click", (event) => {
    state.location = { lat: Number(event.latlng.lat.toFixed(5)), lon: Number(event.latlng.lng.toFixed(5)) };
    note(t("ae_location", { name: t("ae_on_map") }));
    drawMarker(false);
  });

  async function onSubmit(event) {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    const data = new FormData(form);
    const body = { name: String(data.get("name") || "").trim(), email: String(data.get("email") || "").trim(),
      location: state.location, place_name: String(data.get("place_name") || "").trim() || null,
      locale: String(data.get("locale") || "de") };
    if (supportsLogo) body.logo_url = String(data.get("logo_url") || "").trim() || null;
    const problems = [];
    if (body.name.length < 2) problems.push({ field: "name", type: body.name ? "string_too_short" : "missing", message: "at least 2 characters" });
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(body.email)) problems.push({ field: "email", type: body.email ? "value_error" : "missing", message: "is not a valid e-mail address" });
    if (problems.length) { showErrors(form, { code: "validation_error", status: 422, details: problems }); return; }
    state.busy = true;
    redraw();
    try {
      const saved = editing
        ? await api(`/actors/${encodeURIComponent(actor.id)}`, { method: "PATCH", body: { ...body, version: actor.version } })
        : await api("/actors", { method: "POST", body: { ...body, type: String(data.get("type")) } });
      ctx.announce(t("ae_saved"));
      ctx.navigate(`#/actors/${encodeURIComponent(saved.id)}`);
    } catch (error) {
      state.busy = false;
      redraw();
      showErrors(form, error);
    }
  }

  async function addMember(event) {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    const sub = String(new FormData(form).get("sub") || "").trim();
    if (!sub) { showErrors(form, { code: "validation_error", status: 422, details: [{ field: "sub", type: "missing", message: "" }] }); return; }
    try {
      actor = await api(`/actors/${encodeURIComponent(actor.id)}/members`, { method: "POST", body: { sub } });
      state.memberError = null;
      form.reset();
      ctx.announce(t("ae_added", { sub }));
      redraw();
    } catch (error) {
      showErrors(form, error);
    }
  }

  function startClose() {
    state.confirmingClose = true; state.closeError = null; redraw();
    main.querySelector("#close-question")?.focus();
  }

  function cancelClose() {
    state.confirmingClose = false; state.closeError = null; redraw();
    main.querySelector("#close-start")?.focus();
  }

  async function closeOrganisation() {
    state.closing = true; state.closeError = null; redraw();
    try {
      state.closed = await api(`/actors/${encodeURIComponent(actor.id)}`, { method: "DELETE" });
      redraw();
      ctx.announce(t("ae_closed_title"));
      main.querySelector("h1")?.focus();
      forgetActor(actor.id); // the header no longer names it
    } catch (error) {
      state.closing = false; state.confirmingClose = false; state.closeError = error; redraw();
      main.querySelector("#close-error")?.focus();
    }
  }

  async function removeMember(sub) {
    try {
      actor = await api(`/actors/${encodeURIComponent(actor.id)}/members/${encodeURIComponent(sub)}`, { method: "DELETE" });
      state.memberError = null;
      ctx.announce(t("ae_removed", { sub }));
      if (sub === session.sub) { forgetActor(actor.id); ctx.navigate("#/my"); return; }
    } catch (error) {
      state.memberError = error;
    }
    redraw();
  }
}

// #/offers/:id and #/needs/:id — one offer or need: facts, organisation, contact request; for its
// owners also edit/close, the hide reason and the explained suggestions (refreshed every 10 s).
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, itemsOf } from "../core/api.js";
import { formatDate, formatKm, formatNumber, formatRange, languageName, weekdayName } from "../core/format.js";
import { errorText, label, lang } from "../core/i18n.js";
import { distanceKm } from "../core/geo.js";
import { isOwner, kindFromPath, other, ownItems, plural } from "../core/items.js";
import { createMap, pointMarker, radiusCircle } from "../core/map.js";
import { clearErrors, showErrors } from "../core/forms.js";
import { categoryTags, errorBox, itemHref, kindBadge, loading, signInNeeded, statusBadge } from "../core/ui.js";
import { mountShifts } from "./item-shifts.js";

export const TEXTS = {
  de: {
    i_not_found: "Nicht gefunden", i_by: "Von", i_org_link: "Profil ansehen", i_description: "Beschreibung",
    i_schedule: "Zeiten", i_dates: "Termine", i_weekly: "Jede Woche", i_no_schedule: "Nach Absprache",
    i_skills: "Fähigkeiten", i_requirements: "Voraussetzungen", i_none: "keine", i_places: "Freie Plätze",
    i_places_value: "{left} von {total}", i_languages: "Sprachen", i_accessible: "Barrierefreiheit",
    i_accessible_yes: "barrierefrei", i_accessible_no: "nicht als barrierefrei angegeben", i_engagement: "Art des Engagements",
    i_categories: "Handlungsfelder", i_place: "Ort", i_distance: "Entfernung", i_distance_value: "ca. {km} vom Zentrum von {name}",
    i_place_approx: "ungefähr, auf etwa 1 km", i_place_approx_owner: "andere sehen den Ort nur ungefähr, auf etwa 1 km",
    i_radius: "Umkreis", i_radius_value: "bis {km}", i_remote: "Ortsunabhängig", i_yes: "ja", i_no: "nein",
    i_visibility: "Sichtbar für", i_until: "Endet am", i_status: "Status", i_updated: "Aktualisiert",
    i_pause: "Pausieren", i_resume: "Wieder veröffentlichen", i_paused: "Der Eintrag ist pausiert: Niemand findet ihn, und es gibt keine neuen Vorschläge, bis Sie ihn wieder veröffentlichen.",
    i_paused_ok: "Eintrag pausiert.", i_resumed_ok: "Eintrag wieder veröffentlicht.",
    i_expired_renewable: "Der Eintrag ist abgelaufen: Wöchentliche Termine und Einträge nach Absprache laufen 180 Tage nach der letzten Änderung ab. Veröffentlichen Sie ihn wieder, wenn er noch aktuell ist – er gilt dann weitere 180 Tage.",
    i_map: "Karte: ungefährer Ort", i_owner: "Ihr Eintrag", i_edit: "Bearbeiten", i_close: "Schließen (beenden)",
    i_close_confirm: "Wirklich schließen? Der Eintrag ist danach nicht mehr zu finden.", i_closed: "Der Eintrag ist geschlossen.",
    i_hidden: "Von der Moderation ausgeblendet. Grund: {reason}", i_hidden_plain: "Von der Moderation ausgeblendet.",
    i_suggestions: "Passende Vorschläge", i_suggestions_hint: "Wird alle 10 Sekunden aktualisiert.",
    i_no_suggestions: "Noch keine Vorschläge. Sobald etwas Passendes eingetragen wird, erscheint es hier.",
    i_score: "Passung {score} %", i_why: "Warum dieser Vorschlag?", i_contribution: "Anteil am Ergebnis",
    i_contact: "Kontakt anfragen", i_contact_title: "Kontakt anfragen", i_contact_intro: "Ihre Kontaktdaten werden erst weitergegeben, wenn beide Seiten zustimmen.",
    i_contact_from_need: "Für welches Ihrer Gesuche?", i_contact_from_offer: "Mit welchem Ihrer Angebote?",
    i_message: "Nachricht", i_message_hint: "Höchstens 1000 Zeichen.", i_send: "Anfrage senden",
    i_contact_sent: "Ihre Kontaktanfrage wurde gesendet.", i_contact_need_own_offer: "Um Kontakt anzufragen, brauchen Sie ein eigenes offenes Angebot.",
    i_contact_need_own_need: "Um Kontakt anzufragen, brauchen Sie ein eigenes offenes Gesuch.", i_post_own_offer: "Angebot eintragen",
    i_post_own_need: "Gesuch eintragen", i_contacts: "Zu Ihren Kontakten", i_updated_suggestions: "Vorschläge aktualisiert.",
    i_sign_in_contact: "Melden Sie sich an, um Kontakt anzufragen.", i_closed_ok: "Eintrag geschlossen.",
  },
  en: {
    i_not_found: "Not found", i_by: "By", i_org_link: "View profile", i_description: "Description",
    i_schedule: "When", i_dates: "Dates", i_weekly: "Every week", i_no_schedule: "By arrangement",
    i_skills: "Skills", i_requirements: "Requirements", i_none: "none", i_places: "Places left",
    i_places_value: "{left} of {total}", i_languages: "Languages", i_accessible: "Accessibility",
    i_accessible_yes: "accessible", i_accessible_no: "not stated as accessible", i_engagement: "Kind of engagement",
    i_categories: "Fields of engagement", i_place: "Place", i_distance: "Distance", i_distance_value: "about {km} from the centre of {name}",
    i_place_approx: "approximate, to about 1 km", i_place_approx_owner: "others see the place only approximately, to about 1 km",
    i_radius: "Radius", i_radius_value: "up to {km}", i_remote: "Remote possible", i_yes: "yes", i_no: "no",
    i_visibility: "Visible to", i_until: "Ends on", i_status: "Status", i_updated: "Updated",
    i_pause: "Pause", i_resume: "Publish again", i_paused: "This entry is paused: nobody finds it and there are no new suggestions until you publish it again.",
    i_paused_ok: "Entry paused.", i_resumed_ok: "Entry published again.",
    i_expired_renewable: "This entry has expired: weekly and by-arrangement entries expire 180 days after their last change. Publish it again if it is still current; it then runs for another 180 days.",
    i_map: "Map: approximate place", i_owner: "Your entry", i_edit: "Edit", i_close: "Close (end)",
    i_close_confirm: "Really close it? It can no longer be found afterwards.", i_closed: "This entry is closed.",
    i_hidden: "Hidden by moderation. Reason: {reason}", i_hidden_plain: "Hidden by moderation.",
    i_suggestions: "Suggested matches", i_suggestions_hint: "Refreshed every 10 seconds.",
    i_no_suggestions: "No suggestions yet. As soon as something fitting is posted, it appears here.",
    i_score: "Fit {score} %", i_why: "Why this suggestion?", i_contribution: "Share of the score",
    i_contact: "Ask for contact", i_contact_title: "Ask for contact", i_contact_intro: "Your contact details are shared only once both sides agree.",
    i_contact_from_need: "For which of your needs?", i_contact_from_offer: "With which of your offers?",
    i_message: "Message", i_message_hint: "At most 1000 characters.", i_send: "Send request",
    i_contact_sent: "Your contact request has been sent.", i_contact_need_own_offer: "To ask for contact you need an open offer of your own.",
    i_contact_need_own_need: "To ask for contact you need an open need of your own.", i_post_own_offer: "Post an offer",
    i_post_own_need: "Post a need", i_contacts: "To your contacts", i_updated_suggestions: "Suggestions updated.",
    i_sign_in_contact: "Sign in to ask for contact.", i_closed_ok: "Entry closed.",
  },
};

const POLL_MS = 10000;

export function title(ctx) {
  return ctx.data.item ? ctx.data.item.title : ctx.t(kindFromPath(ctx.path));
}

export async function render(ctx) {
  const { t, main, vocab, session, params } = ctx;
  const kind = kindFromPath(ctx.path);
  const counter = other(kind);
  draw(html`<h1>${t(kind)}</h1>${loading()}`, main);

  let item;
  try {
    item = await api(`/${plural(kind)}/${encodeURIComponent(params.id)}`, { signal: ctx.signal });
  } catch (error) {
    if (error.name === "AbortError") return;
    ctx.data.item = null;
    draw(html`<h1>${error.status === 404 ? t("i_not_found") : t("error_title")}</h1>${errorBox(error)}
      <p><a href="#/search">${t("nav_search")}</a></p>`, main);
    return;
  }
  ctx.data.item = item;
  let actor = null;
  if (session.signedIn) {
    try { actor = await api(`/actors/${encodeURIComponent(item.actor_id)}`, { signal: ctx.signal }); }
    catch (error) { if (error.name === "AbortError") return; }
  }
  const owner = isOwner(session, actor, item);
  const state = { matches: null, matchesError: null, mine: null, contact: { sent: false, error: null, busy: false },
    closeError: null, suggestionContacts: {} };

  // ---- facts ------------------------------------------------------------------------------
  function scheduleView() {
    const dates = item.schedule?.dates || [];
    const weekly = item.schedule?.weekly || [];
    if (!dates.length && !weekly.length) return t("i_no_schedule");
    return html`${dates.length ? html`<ul>${dates.map((d) => html`<li>${formatRange(d.start, d.end)}</li>`)}</ul>` : nothing}
      ${weekly.length ? html`<p>${t("i_weekly")}:</p><ul>${weekly.map((w) => html`<li>${weekdayName(w.day)}, ${w.start} – ${w.end}</li>`)}</ul>` : nothing}`;
  }

  function factsView() {
    const distance = item.location ? distanceKm(ctx.center, item.location) : null;
    const list = (values, render_) => (values && values.length ? values.map(render_).join(", ") : t("i_none"));
    return html`<dl class="facts">
      <dt>${t("i_engagement")}</dt><dd>${vocab.label("engagement-types", item.engagement)}</dd>
      <dt>${t("i_categories")}</dt><dd>${categoryTags(vocab, item.categories)}</dd>
      <dt>${t("i_schedule")}</dt><dd>${scheduleView()}</dd>
      ${item.expires_at ? html`<dt>${t("i_until")}</dt><dd>${formatDate(item.expires_at)}</dd>` : nothing}
      <dt>${t("i_skills")}</dt><dd>${list(item.skills, (s) => s)}</dd>
      <dt>${t("i_requirements")}</dt><dd>${list(item.requirements, (r) => vocab.label("requirements", r))}</dd>
      <dt>${t("i_places")}</dt><dd>${t("i_places_value", { left: item.capacity_left ?? item.capacity, total: item.capacity })}</dd>
      <dt>${t("i_languages")}</dt><dd>${list(item.languages, languageName)}</dd>
      <dt>${t("i_accessible")}</dt><dd>${item.accessible ? t("i_accessible_yes") : t("i_accessible_no")}</dd>
      <dt>${t("i_place")}</dt><dd>${item.place_name || "–"}${item.actor_type === "person"
        ? html` <span class="meta">(${t(owner ? "i_place_approx_owner" : "i_place_approx")})</span>` : nothing}</dd>
      ${distance != null && ctx.tenant ? html`<dt>${t("i_distance")}</dt>
        <dd>${t("i_distance_value", { km: formatKm(distance), name: ctx.tenant.name })}</dd>` : nothing}
      <dt>${t("i_radius")}</dt><dd>${t("i_radius_value", { km: formatKm(item.radius_km) })}</dd>
      <dt>${t("i_remote")}</dt><dd>${item.remote ? t("i_yes") : t("i_no")}</dd>
      <dt>${t("i_visibility")}</dt><dd>${vocab.label("visibilities", item.visibility)}</dd>
      <dt>${t("i_updated")}</dt><dd>${formatDate(item.updated_at)}</dd>
    </dl>`;
  }

  // ---- owner: close, suggestions ------------------------------------------------------------
  async function closeItem() {
    if (!window.confirm(t("i_close_confirm"))) return;
    try {
      item = await api(`/${plural(kind)}/${encodeURIComponent(item.id)}`, { method: "DELETE",
        headers: { "If-Match": String(item.version) } });
      state.closeError = null;
      ctx.announce(t("i_closed_ok"));
    } catch (error) {
      state.closeError = error;
    }
    redraw();
  }

  async function setPaused(paused) {
    try {
      item = await api(`/${plural(kind)}/${encodeURIComponent(item.id)}/${paused ? "pause" : "resume"}`,
        { method: "POST" });
      state.closeError = null;
      ctx.announce(t(paused ? "i_paused_ok" : "i_resumed_ok"));
    } catch (error) {
      state.closeError = error;
    }
    redraw();
  }

  async function contactFromSuggestion(match) {
    const key = `${match.offer_id}|${match.need_id}`;
    state.suggestionContacts[key] = { busy: true };
    redraw();
    try {
      await api("/contacts", { method: "POST", body: { offer_id: match.offer_id, need_id: match.need_id, message: "" } });
      state.suggestionContacts[key] = { sent: true };
      ctx.announce(t("i_contact_sent"));
    } catch (error) {
      state.suggestionContacts[key] = { error };
      ctx.announce(errorText(error));
    }
    redraw();
  }

  function suggestionView(match) {
    const side = match[counter] || {};
    const id = match[`${counter}_id`];
    const key = `${match.offer_id}|${match.need_id}`;
    const contact = state.suggestionContacts[key] || {};
    return html`<li class="card">
      <h3><a href=${itemHref(counter, id)}>${side.title || id}</a></h3>
      <p>${kindBadge(counter)} <span class="score">${t("i_score", { score: Math.round((match.score || 0) * 100) })}</span></p>
      <details><summary>${t("i_why")}</summary>
        <ul class="reasons">${(match.reasons || []).filter((r) => r.contribution > 0 || r.value > 0).map((reason) => html`<li>
          <span>${reason.text || label(reason.label) || reason.factor}</span>
          <meter min="0" max="1" value=${Math.max(0, Math.min(1, reason.value ?? 0))}
            aria-label=${reason.text || label(reason.label) || reason.factor}></meter>
          <span class="meta" title=${t("i_contribution")}>+${formatNumber((reason.contribution || 0) * 100, 0)}</span></li>`)}
        </ul></details>
      ${contact.sent ? html`<p class="notice ok">${t("i_contact_sent")} <a href="#/contacts">${t("i_contacts")}</a></p>`
        : html`${contact.error ? html`<p class="notice error">${errorText(contact.error)}</p>` : nothing}
          <button type="button" ?disabled=${contact.busy} @click=${() => contactFromSuggestion(match)}
            aria-label=${`${t("i_contact")}: ${side.title || id}`}>${t("i_contact")}</button>`}
    </li>`;
  }

  function ownerView() {
    // Weekly and by-arrangement items lapse after 180 days without a change; their owners may
    // publish them again (items with one-off dates only end with their last date for good).
    const renewable = item.status === "expired"
      && ((item.schedule?.weekly || []).length > 0 || !(item.schedule?.dates || []).length);
    return html`<section class="owner-box" aria-labelledby="i-owner">
      <h2 id="i-owner">${t("i_owner")}</h2>
      ${item.status === "hidden" ? html`<p class="notice warn">${item.hidden_reason
        ? t("i_hidden", { reason: item.hidden_reason }) : t("i_hidden_plain")}</p>` : nothing}
      ${item.status === "closed" ? html`<p class="notice">${t("i_closed")}</p>` : nothing}
      ${item.status === "paused" ? html`<p class="notice">${t("i_paused")}</p>` : nothing}
      ${renewable ? html`<p class="notice">${t("i_expired_renewable")}</p>` : nothing}
      ${state.closeError ? html`<p class="notice error" role="alert">${errorText(state.closeError)}</p>` : nothing}
      <div class="actions">
        <a class="button" href=${`#/${plural(kind)}/${encodeURIComponent(item.id)}/edit`}>${t("i_edit")}</a>
        ${item.status === "published" ? html`<button type="button" @click=${() => setPaused(true)}>${t("i_pause")}</button>` : nothing}
        ${item.status === "paused" || renewable ? html`<button type="button" @click=${() => setPaused(false)}>${t("i_resume")}</button>` : nothing}
        ${["published", "paused"].includes(item.status) ? html`<button type="button" class="danger" @click=${closeItem}>${t("i_close")}</button>` : nothing}
      </div>
    </section>
    <section aria-labelledby="i-suggestions">
      <h2 id="i-suggestions">${t("i_suggestions")}</h2>
      <p class="meta">${t("i_suggestions_hint")}</p>
      ${state.matchesError ? errorBox(state.matchesError) : state.matches === null ? loading()
        : state.matches.length ? html`<ul class="suggestions">${state.matches.map(suggestionView)}</ul>`
          : html`<p>${t("i_no_suggestions")}</p>`}
    </section>`;
  }

  // ---- visitor: contact request -------------------------------------------------------------
  async function sendContact(event) {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    const mine = form.elements.mine.value;
    const body = kind === "need"
      ? { offer_id: mine, need_id: item.id, message: form.elements.message.value }
      : { offer_id: item.id, need_id: mine, message: form.elements.message.value };
    state.contact.busy = true;
    redraw();
    try {
      await api("/contacts", { method: "POST", body });
      state.contact = { sent: true, busy: false };
      redraw();
      ctx.announce(t("i_contact_sent"));
      main.querySelector("#i-contact-done")?.focus();
    } catch (error) {
      state.contact.busy = false;
      redraw();
      // The chosen own item is the form's "offer_id"/"need_id" field.
      const details = (error.details || []).map((d) => ({ ...d,
        field: d.field === `${counter}_id` ? "mine" : d.field === `${kind}_id` ? "mine" : d.field }));
      showErrors(form, Object.assign(error, { details }));
    }
  }

  function contactView() {
    if (item.status !== "published") return nothing;
    if (!session.signedIn) {
      return html`<section class="contact-box" aria-labelledby="i-contact"><h2 id="i-contact">${t("i_contact_title")}</h2>
        <p>${t("i_sign_in_contact")} <a href=${`#/sign-in?next=${encodeURIComponent(ctx.path)}`}>${t("sign_in")}</a></p></section>`;
    }
    if (state.contact.sent) {
      return html`<section class="contact-box" aria-labelledby="i-contact"><h2 id="i-contact">${t("i_contact_title")}</h2>
        <p class="notice ok" id="i-contact-done" tabindex="-1">${t("i_contact_sent")} <a href="#/contacts">${t("i_contacts")}</a></p></section>`;
    }
    const mine = (state.mine || []).filter((own) => own.status === "published");
    return html`<section class="contact-box" aria-labelledby="i-contact">
      <h2 id="i-contact">${t("i_contact_title")}</h2>
      <p class="meta">${t("i_contact_intro")}</p>
      ${state.mine === null ? loading() : !mine.length
        ? html`<p>${t(counter === "offer" ? "i_contact_need_own_offer" : "i_contact_need_own_need")}</p>
            <a class="button" href=${`#/post?kind=${counter}`}>${t(counter === "offer" ? "i_post_own_offer" : "i_post_own_need")}</a>`
        : html`<form @submit=${sendContact} novalidate>
            <div class="field"><label for="i-mine">${t(counter === "offer" ? "i_contact_from_offer" : "i_contact_from_need")}</label>
              <select id="i-mine" name="mine">${mine.map((own) => html`<option value=${own.id}>${own.title}${state.fit?.has(own.id)
                ? ` – ${t("i_score", { score: Math.round(state.fit.get(own.id) * 100) })}` : ""}</option>`)}</select></div>
            <div class="field"><label for="i-message">${t("i_message")}</label>
              <span class="hint" id="i-message-hint">${t("i_message_hint")}</span>
              <textarea id="i-message" name="message" maxlength="1000" rows="4" aria-describedby="i-message-hint"></textarea></div>
            <button type="submit" class="primary" ?disabled=${state.contact.busy}>${t("i_send")}</button>
          </form>`}
    </section>`;
  }

  // ---- page -----------------------------------------------------------------------------------
  function view() {
    const organisation = actor ? actor.name : null;
    return html`<article>
      <p class="item-head">${kindBadge(kind)} ${statusBadge(item.status)}</p>
      <h1>${item.title}</h1>
      <p>${t("i_by")}: <a href=${`#/actors/${encodeURIComponent(item.actor_id)}`}>${organisation || t("i_org_link")}</a>
        ${actor ? html`<span class="meta">(${vocab.label("actor-types", actor.type)})</span>` : nothing}</p>
      <div class="item-layout">
        <div>
          ${item.description ? html`<h2>${t("i_description")}</h2><p class="description">${item.description}</p>` : nothing}
          ${factsView()}
        </div>
        <div>
          <div class="item-map" id="i-map"></div>
          ${owner ? nothing : contactView()}
        </div>
      </div>
      <div id="i-shifts-slot"></div>
      ${owner ? ownerView() : nothing}
    </article>`;
  }

  function redraw() { if (ctx.isCurrent()) draw(view(), main); }
  redraw();
  // Dates and shifts: a part of its own, drawn into its slot (the item's redraws leave it alone).
  mountShifts(ctx, main.querySelector("#i-shifts-slot"), { item, kind, owner });

  if (item.location) {
    const map = createMap(main.querySelector("#i-map"), { center: item.location, zoom: 11, tileUrl: ctx.config.map_tile_url,
      label: t("i_map") });
    ctx.onCleanup(() => map.remove());
    const circle = radiusCircle(item.location, item.radius_km).addTo(map);
    pointMarker(item.location, kind).addTo(map).bindTooltip(item.title);
    map.fitBounds(circle.getBounds(), { padding: [10, 10] });
  }

  if (owner) {
    let timer = null;
    let previous = "";
    const loadMatches = async (announceChange) => {
      try {
        const answer = await api(`/${plural(kind)}/${encodeURIComponent(item.id)}/matches`, {
          query: { lang: lang(), limit: 20 }, signal: ctx.signal });
        state.matches = itemsOf(answer);
        state.matchesError = null;
        const signature = state.matches.map((m) => `${m.offer_id}${m.need_id}${m.score}`).join();
        if (announceChange && signature !== previous) ctx.announce(t("i_updated_suggestions"));
        previous = signature;
      } catch (error) {
        if (error.name === "AbortError") return;
        if (error.status === 404) {
          // Matching learns of an item from its event, a moment after it was published:
          // until then it does not know it, and there are no suggestions yet either.
          state.matches = [];
          state.matchesError = null;
        } else {
          state.matchesError = error;
        }
      }
      redraw();
    };
    const poll = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        if (document.visibilityState === "visible") await loadMatches(true);
        if (ctx.isCurrent()) poll();
      }, POLL_MS);
    };
    const onVisible = () => { if (document.visibilityState === "visible") { loadMatches(true); poll(); } };
    document.addEventListener("visibilitychange", onVisible);
    ctx.onCleanup(() => { clearTimeout(timer); document.removeEventListener("visibilitychange", onVisible); });
    loadMatches(false).then(poll);
  } else if (session.signedIn) {
    // Own counterparts; those the matcher paired with this item first (a contact request needs a
    // current match), with their fit.
    Promise.all([
      ownItems(counter, { status: "published", signal: ctx.signal }),
      api(`/${plural(kind)}/${encodeURIComponent(item.id)}/matches`, { query: { lang: lang(), limit: 100 }, signal: ctx.signal })
        .then(itemsOf).catch((error) => { if (error.name === "AbortError") throw error; return []; }),
    ]).then(([mine, matches]) => {
      const score = new Map(matches.map((m) => [m[`${counter}_id`], m.score]));
      state.fit = score;
      state.mine = [...mine].sort((a, b) => (score.get(b.id) ?? -1) - (score.get(a.id) ?? -1));
      redraw();
    }).catch((error) => { if (error.name !== "AbortError") { state.mine = []; redraw(); } });
  }
}

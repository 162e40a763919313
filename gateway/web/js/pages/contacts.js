// #/contacts: contact requests received and sent; accept or decline; the other side's contact
// details once a request is accepted. #/contacts?id=<id> (or #/contacts/<id>) highlights one.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, ApiError } from "../core/api.js";
import { errorText } from "../core/i18n.js";
import { formatDateTime } from "../core/format.js";
import { errorBox, loading, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: {
    ct_title: "Kontakte",
    ct_intro: "Hier sehen Sie Kontaktanfragen zu Ihren Angeboten und Gesuchen. Erst wenn eine Anfrage angenommen ist, sehen beide Seiten Namen und E-Mail-Adresse der anderen.",
    ct_received: "Erhaltene Anfragen", ct_sent: "Gesendete Anfragen",
    ct_none_received: "Sie haben noch keine Kontaktanfragen erhalten.",
    ct_none_sent: "Sie haben noch keine Kontaktanfragen gesendet. Anfragen stellen Sie bei einem passenden Vorschlag auf der Seite Ihres Angebots oder Gesuchs.",
    ct_filter: "Anzeigen", ct_filter_all: "alle Anfragen", ct_filter_requested: "nur offene",
    ct_filter_accepted: "nur angenommene", ct_filter_declined: "nur abgelehnte", ct_filter_apply: "Filter anwenden",
    ct_from: "Anfrage von {name}", ct_to: "Anfrage an {name}", ct_someone: "einem anderen Profil",
    ct_your_item: "Ihr Eintrag", ct_their_item: "Eintrag der anderen Seite", ct_message: "Nachricht",
    ct_no_message: "(keine Nachricht)", ct_date_received: "Erhalten am", ct_date_sent: "Gesendet am",
    ct_state: "Status", ct_answered: "beantwortet am {date}",
    ct_state_requested: "offen", ct_state_accepted: "angenommen", ct_state_declined: "abgelehnt",
    ct_accept: "Annehmen", ct_decline: "Ablehnen", ct_about: "Anfrage von {name} zu „{title}“",
    ct_accepted_now: "Kontaktanfrage von {name} angenommen. Die Kontaktdaten werden jetzt angezeigt.",
    ct_declined_now: "Kontaktanfrage von {name} abgelehnt.",
    ct_waiting: "Wartet auf die Antwort der anderen Seite.",
    ct_declined_note: "Die Anfrage wurde abgelehnt. Kontaktdaten werden nicht geteilt.",
    ct_details: "Kontaktdaten", ct_name: "Name", ct_email: "E-Mail", ct_place: "Ort", ct_type: "Profilart",
    ct_details_unavailable: "Die Kontaktdaten konnten gerade nicht geladen werden.",
    ct_item_gone: "(nicht mehr verfügbar)", ct_more: "Weitere Anfragen laden",
    ct_highlighted: "Ausgewählte Anfrage", ct_not_found: "Diese Kontaktanfrage gibt es nicht oder sie gehört nicht zu Ihren Profilen.",
    ct_no_actor: "Kontaktanfragen gehören zu Ihren Profilen (Person oder Organisation). Noch kein Profil?",
    ct_create_actor: "Profil anlegen",
  },
  en: {
    ct_title: "Contacts",
    ct_intro: "Here you see contact requests about your offers and needs. Only once a request has been accepted do both sides see each other's name and e-mail address.",
    ct_received: "Requests received", ct_sent: "Requests sent",
    ct_none_received: "You have not received any contact requests yet.",
    ct_none_sent: "You have not sent any contact requests yet. You ask for contact from a suggestion on the page of your offer or need.",
    ct_filter: "Show", ct_filter_all: "all requests", ct_filter_requested: "open only",
    ct_filter_accepted: "accepted only", ct_filter_declined: "declined only", ct_filter_apply: "Apply filter",
    ct_from: "Request from {name}", ct_to: "Request to {name}", ct_someone: "another profile",
    ct_your_item: "Your entry", ct_their_item: "The other side's entry", ct_message: "Message",
    ct_no_message: "(no message)", ct_date_received: "Received on", ct_date_sent: "Sent on",
    ct_state: "Status", ct_answered: "answered on {date}",
    ct_state_requested: "open", ct_state_accepted: "accepted", ct_state_declined: "declined",
    ct_accept: "Accept", ct_decline: "Decline", ct_about: "request from {name} about “{title}”",
    ct_accepted_now: "Contact request from {name} accepted. The contact details are shown now.",
    ct_declined_now: "Contact request from {name} declined.",
    ct_waiting: "Waiting for the other side's answer.",
    ct_declined_note: "The request was declined. No contact details are shared.",
    ct_details: "Contact details", ct_name: "Name", ct_email: "E-mail", ct_place: "Place", ct_type: "Profile type",
    ct_details_unavailable: "The contact details could not be loaded just now.",
    ct_item_gone: "(no longer available)", ct_more: "Load more requests",
    ct_highlighted: "Selected request", ct_not_found: "This contact request does not exist or does not belong to your profiles.",
    ct_no_actor: "Contact requests belong to your profiles (a person or an organisation). No profile yet?",
    ct_create_actor: "Create a profile",
  },
};

const STATES = ["requested", "accepted", "declined"];

export function title(ctx) { return ctx.t("ct_title"); }

function signInView(t) {
  return html`<h1>${t("ct_title")}</h1>${signInNeeded()}`;
}

export async function render(ctx) {
  const { t, session } = ctx;
  if (!session.signedIn) { draw(signInView(t), ctx.main); return; }

  const focusId = ctx.params.id || (typeof ctx.query.id === "string" ? ctx.query.id : "");
  const filter = STATES.includes(ctx.query.status) ? ctx.query.status : "";
  const state = {
    loading: true, error: null,
    lists: { received: { items: [], next: null }, sent: { items: [], next: null } },
    extra: null,           // the highlighted request when it is not in the loaded pages
    notFound: false,
    busy: new Set(),       // ids being accepted / declined
    cardErrors: new Map(), // id -> message
    items: new Map(),      // "offer:<id>" -> item | null
    actors: new Map(),     // actor id -> actor | null
    details: new Map(),    // contact id -> GET /contacts/{id} answer (accepted only)
  };

  const redraw = () => { if (ctx.isCurrent()) draw(view(), ctx.main); };

  // ---- loading --------------------------------------------------------------------------------
  async function loadItem(kind, id) {
    const key = `${kind}:${id}`;
    if (state.items.has(key)) return state.items.get(key);
    state.items.set(key, null);
    try {
      state.items.set(key, await api(`/${kind}s/${encodeURIComponent(id)}`, { signal: ctx.signal }));
    } catch (error) { if (error.name === "AbortError") throw error; }
    return state.items.get(key);
  }

  async function loadActor(id) {
    if (!id || state.actors.has(id)) return;
    state.actors.set(id, null);
    try {
      state.actors.set(id, await api(`/actors/${encodeURIComponent(id)}`, { signal: ctx.signal }));
    } catch (error) { if (error.name === "AbortError") throw error; }
  }

  async function loadDetails(contact) {
    if (contact.status !== "accepted") return;
    try {
      state.details.set(contact.id, await api(`/contacts/${encodeURIComponent(contact.id)}`, { signal: ctx.signal }));
    } catch (error) {
      if (error.name === "AbortError") throw error;
      state.details.set(contact.id, { failed: true });
    }
  }

  async function enrich(contacts) {
    await Promise.all(contacts.flatMap((c) => [
      loadItem("offer", c.offer_id), loadItem("need", c.need_id),
      loadActor(c.requester_actor_id), loadActor(c.recipient_actor_id), loadDetails(c),
    ]));
  }

  async function loadPage(role, after) {
    const answer = await api("/contacts", { query: { role, status: filter, after, limit: 20 }, signal: ctx.signal });
    const list = state.lists[role];
    list.items = after ? [...list.items, ...(answer.items || [])] : (answer.items || []);
    list.next = answer.next || null;
    await enrich(answer.items || []);
  }

  async function loadAll() {
    try {
      await Promise.all([loadPage("received"), loadPage("sent")]);
      if (focusId && !findContact(focusId)) {
        try {
          state.extra = await api(`/contacts/${encodeURIComponent(focusId)}`, { signal: ctx.signal });
          await enrich([state.extra]);
        } catch (error) {
          if (error.name === "AbortError") throw error;
          state.notFound = true;
        }
      }
    } catch (error) {
      if (error.name === "AbortError") throw error;
      state.error = error;
    }
    state.loading = false;
  }

  function findContact(id) {
    return state.lists.received.items.find((c) => c.id === id)
      || state.lists.sent.items.find((c) => c.id === id)
      || (state.extra && state.extra.id === id ? state.extra : null);
  }

  // ---- reading a request ------------------------------------------------------------------------
  // Which of the two items belongs to the requester: the one whose actor asked.
  function sides(contact) {
    const offer = state.items.get(`offer:${contact.offer_id}`);
    const need = state.items.get(`need:${contact.need_id}`);
    const requesterHasOffer = offer ? offer.actor_id === contact.requester_actor_id
      : !(need && need.actor_id === contact.requester_actor_id);
    const offerSide = { kind: "offer", id: contact.offer_id, item: offer };
    const needSide = { kind: "need", id: contact.need_id, item: need };
    return requesterHasOffer ? { requester: offerSide, recipient: needSide }
      : { requester: needSide, recipient: offerSide };
  }

  function roleOf(contact) {
    if (state.lists.received.items.includes(contact)) return "received";
    if (state.lists.sent.items.includes(contact)) return "sent";
    // A highlighted request outside the loaded pages: received when the caller's actor answers.
    return session.actorId && session.actorId === contact.requester_actor_id ? "sent" : "received";
  }

  function actorName(id) {
    const actor = state.actors.get(id);
    return (actor && actor.name) || t("ct_someone");
  }

  // ---- actions --------------------------------------------------------------------------------
  async function decide(contact, decision) {
    const name = actorName(contact.requester_actor_id);
    state.busy.add(contact.id);
    state.cardErrors.delete(contact.id);
    redraw();
    try {
      const updated = await api(`/contacts/${encodeURIComponent(contact.id)}/${decision}`, { method: "POST" });
      Object.assign(contact, updated);
      if (updated.status === "accepted") {
        if (updated.contact) state.details.set(contact.id, updated);
        else await loadDetails(contact);
        await loadActor(contact.requester_actor_id);
      }
      ctx.announce(t(decision === "accept" ? "ct_accepted_now" : "ct_declined_now", { name }));
    } catch (error) {
      if (error.name === "AbortError") return;
      state.cardErrors.set(contact.id, errorText(error));
      if (error instanceof ApiError && error.code === "contact_not_open") {
        try { Object.assign(contact, await api(`/contacts/${encodeURIComponent(contact.id)}`)); await loadDetails(contact); }
        catch { /* keep what we have */ }
      }
    }
    state.busy.delete(contact.id);
    redraw();
    // The buttons are gone now: focus goes to the request's heading, which names its new state.
    const heading = ctx.main.querySelector(`#contact-${CSS.escape(contact.id)} h3`);
    if (heading) heading.focus();
  }

  async function more(role) {
    const list = state.lists[role];
    const before = list.items.length;
    try { await loadPage(role, list.next); } catch (error) {
      if (error.name === "AbortError") return;
      state.error = error;
    }
    redraw();
    // Focus the first newly loaded request, so keyboard users continue where they were.
    const first = list.items[before];
    if (first) ctx.main.querySelector(`#contact-${CSS.escape(first.id)} h3`)?.focus();
  }

  function applyFilter(event) {
    event.preventDefault();
    const value = new FormData(event.target).get("status");
    const query = value ? `?status=${encodeURIComponent(value)}` : "";
    ctx.navigate(`#/contacts${query}`);
  }

  // ---- views ----------------------------------------------------------------------------------
  function itemLink(side) {
    const kindLabel = t(side.kind);
    if (!side.item) {
      return html`<span class="badge kind-${side.kind}">${kindLabel}</span> ${t("ct_item_gone")}`;
    }
    return html`<span class="badge kind-${side.kind}">${kindLabel}</span>
      <a href="#/${side.kind}s/${encodeURIComponent(side.id)}">${side.item.title}</a>`;
  }

  function detailsView(contact, role) {
    const answer = state.details.get(contact.id);
    const other = role === "received" ? "requester" : "recipient";
    const otherActorId = role === "received" ? contact.requester_actor_id : contact.recipient_actor_id;
    const card = answer && answer.contact && answer.contact[other];
    const actor = state.actors.get(otherActorId) || {};
    if (!card) {
      return html`<p class="notice warn">${t("ct_details_unavailable")}</p>`;
    }
    const name = card.name || actor.name || "";
    const email = card.email || actor.email;
    const headingId = `contact-${contact.id}-details`;
    return html`<section class="contact-details" aria-labelledby=${headingId}>
      <h4 id=${headingId}>${t("ct_details")}</h4>
      <dl class="pairs">
        <dt>${t("ct_name")}</dt><dd>${name}</dd>
        ${email ? html`<dt>${t("ct_email")}</dt>
          <dd><a href="mailto:${email}">${email}</a></dd>` : nothing}
        ${actor.type ? html`<dt>${t("ct_type")}</dt><dd>${ctx.vocab.label("actor-types", actor.type)}</dd>` : nothing}
        ${actor.place_name ? html`<dt>${t("ct_place")}</dt><dd>${actor.place_name}</dd>` : nothing}
      </dl>
    </section>`;
  }

  function contactView(contact, role, { highlighted = false } = {}) {
    const { requester, recipient } = sides(contact);
    const mine = role === "received" ? recipient : requester;
    const theirs = role === "received" ? requester : recipient;
    const otherId = role === "received" ? contact.requester_actor_id : contact.recipient_actor_id;
    const otherName = actorName(otherId);
    const headingText = t(role === "received" ? "ct_from" : "ct_to", { name: otherName });
    const busy = state.busy.has(contact.id);
    const error = state.cardErrors.get(contact.id);
    const canAnswer = role === "received" && contact.status === "requested";
    const about = t("ct_about", { name: otherName, title: (theirs.item && theirs.item.title) || "" });
    return html`<li class="card contact-card state-${contact.status} ${highlighted ? "highlight" : ""}"
        id="contact-${contact.id}" aria-current=${highlighted ? "true" : nothing}>
      <h3 tabindex="-1">${headingText}
        <span class="badge contact-state state-${contact.status}">${t(`ct_state_${contact.status}`)}</span></h3>
      ${highlighted ? html`<p class="visually-hidden">${t("ct_highlighted")}</p>` : nothing}
      <dl class="pairs">
        <dt>${t("ct_their_item")}</dt><dd>${itemLink(theirs)}</dd>
        <dt>${t("ct_your_item")}</dt><dd>${itemLink(mine)}</dd>
        <dt>${t("ct_message")}</dt>
        <dd class="message">${contact.message ? contact.message : html`<span class="muted">${t("ct_no_message")}</span>`}</dd>
        <dt>${t(role === "received" ? "ct_date_received" : "ct_date_sent")}</dt>
        <dd><time datetime=${contact.created_at}>${formatDateTime(contact.created_at)}</time></dd>
        ${contact.decided_at ? html`<dt>${t("ct_state")}</dt>
          <dd>${t(`ct_state_${contact.status}`)} – ${t("ct_answered", { date: formatDateTime(contact.decided_at) })}</dd>` : nothing}
      </dl>
      ${error ? html`<p class="notice error" role="alert">${error}</p>` : nothing}
      ${canAnswer ? html`<div class="actions">
          <button type="button" class="primary" ?disabled=${busy} aria-describedby="contact-${contact.id}-about"
            @click=${() => decide(contact, "accept")}>${t("ct_accept")}</button>
          <button type="button" ?disabled=${busy} aria-describedby="contact-${contact.id}-about"
            @click=${() => decide(contact, "decline")}>${t("ct_decline")}</button>
          <span class="visually-hidden" id="contact-${contact.id}-about">${about}</span>
        </div>` : nothing}
      ${role === "sent" && contact.status === "requested" ? html`<p class="muted">${t("ct_waiting")}</p>` : nothing}
      ${contact.status === "declined" ? html`<p class="muted">${t("ct_declined_note")}</p>` : nothing}
      ${contact.status === "accepted" ? detailsView(contact, role) : nothing}
    </li>`;
  }

  function listView(role) {
    const list = state.lists[role];
    const headingId = `contacts-${role}`;
    return html`<section class="contact-list" aria-labelledby=${headingId}>
      <h2 id=${headingId}>${t(role === "received" ? "ct_received" : "ct_sent")}
        <span class="count muted">(${list.items.length}${list.next ? "+" : ""})</span></h2>
      ${list.items.length
        ? html`<ul class="cards">${list.items.map((c) => contactView(c, role, { highlighted: c.id === focusId }))}</ul>`
        : html`<p class="muted">${t(role === "received" ? "ct_none_received" : "ct_none_sent")}</p>`}
      ${list.next ? html`<p><button type="button" @click=${() => more(role)}>${t("ct_more")}</button></p>` : nothing}
    </section>`;
  }

  function filterView() {
    return html`<form class="inline-form contact-filter" @submit=${applyFilter}>
      <div class="field">
        <label for="contact-status">${t("ct_filter")}</label>
        <select id="contact-status" name="status">
          <option value="" ?selected=${!filter}>${t("ct_filter_all")}</option>
          ${STATES.map((s) => html`<option value=${s} ?selected=${filter === s}>${t(`ct_filter_${s}`)}</option>`)}
        </select>
      </div>
      <button type="submit">${t("ct_filter_apply")}</button>
    </form>`;
  }

  function view() {
    if (state.loading) {
      return html`<h1>${t("ct_title")}</h1>${loading()}`;
    }
    if (state.error) {
      return html`<h1>${t("ct_title")}</h1>${errorBox(state.error, { retry: () => ctx.navigate(window.location.hash) })}`;
    }
    const empty = !state.lists.received.items.length && !state.lists.sent.items.length && !filter;
    return html`<h1>${t("ct_title")}</h1>
      <p>${t("ct_intro")}</p>
      ${state.notFound ? html`<p class="notice warn" role="alert">${t("ct_not_found")}</p>` : nothing}
      ${state.extra ? html`<section aria-labelledby="contact-extra"><h2 id="contact-extra">${t("ct_highlighted")}</h2>
          <ul class="cards">${contactView(state.extra, roleOf(state.extra), { highlighted: true })}</ul></section>` : nothing}
      ${empty && !session.actorId ? html`<p class="notice">${t("ct_no_actor")}
          <a href="#/actors/new">${t("ct_create_actor")}</a></p>` : nothing}
      ${filterView()}
      ${listView("received")}
      ${listView("sent")}`;
  }

  redraw();
  await loadAll();
  redraw();
  if (focusId) {
    const card = ctx.main.querySelector(`#contact-${CSS.escape(focusId)}`);
    if (card) {
      // After the router moved focus to the <h1>, bring the chosen request into view.
      setTimeout(() => { if (ctx.isCurrent()) { card.scrollIntoView({ block: "center" }); card.querySelector("h3")?.focus(); } }, 0);
    }
  }
}

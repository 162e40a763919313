// #/inbox: in-app notifications, newest first; unread filter, mark one or all read, cursor paging.
// Match notifications explain themselves ("why this suggestion") and link to both items;
// contact notifications link to the request on #/contacts.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api } from "../core/api.js";
import { errorText, label } from "../core/i18n.js";
import { formatDateTime, formatNumber } from "../core/format.js";
import { errorBox, loading, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: {
    ib_title: "Posteingang",
    ib_intro: "Benachrichtigungen über passende Vorschläge und Kontaktanfragen zu Ihren Profilen.",
    ib_filter: "Anzeigen", ib_all: "Alle", ib_unread_only: "Nur ungelesene",
    ib_mark_all: "Alle als gelesen markieren", ib_mark_read: "Als gelesen markieren",
    ib_marked_all: "{n} Benachrichtigung(en) als gelesen markiert.", ib_marked_one: "Als gelesen markiert: {title}",
    ib_nothing_to_mark: "Es gibt keine ungelesenen Benachrichtigungen.",
    ib_empty: "Keine Benachrichtigungen.", ib_empty_unread: "Keine ungelesenen Benachrichtigungen.",
    ib_unread: "Neu", ib_read: "gelesen", ib_received: "Erhalten am",
    ib_more: "Weitere Benachrichtigungen laden", ib_loaded_more: "{n} weitere Benachrichtigung(en) geladen.",
    ib_why: "Warum dieser Vorschlag?", ib_fit: "Passung: {pct} %",
    ib_contribution: "{points} von {total} Prozentpunkten",
    ib_your_item: "Ihr Eintrag", ib_suggestion: "Vorschlag",
    ib_withdrawn: "Dieser Vorschlag ist nicht mehr aktuell (eines der Angebote/Gesuche hat sich geändert oder ist geschlossen).",
    ib_to_contact: "Zur Kontaktanfrage", ib_settings: "Benachrichtigungen einstellen",
    ib_type_match: "Vorschlag", ib_type_contact: "Kontakt", ib_type_moderation: "Moderation",
    ib_open_item: "Eintrag ansehen",
  },
  en: {
    ib_title: "Inbox",
    ib_intro: "Notifications about suggested matches and contact requests for your profiles.",
    ib_filter: "Show", ib_all: "All", ib_unread_only: "Unread only",
    ib_mark_all: "Mark all as read", ib_mark_read: "Mark as read",
    ib_marked_all: "{n} notification(s) marked as read.", ib_marked_one: "Marked as read: {title}",
    ib_nothing_to_mark: "There are no unread notifications.",
    ib_empty: "No notifications.", ib_empty_unread: "No unread notifications.",
    ib_unread: "New", ib_read: "read", ib_received: "Received on",
    ib_more: "Load more notifications", ib_loaded_more: "{n} more notification(s) loaded.",
    ib_why: "Why this suggestion?", ib_fit: "Fit: {pct}%",
    ib_contribution: "{points} of {total} percentage points",
    ib_your_item: "Your entry", ib_suggestion: "Suggestion",
    ib_withdrawn: "This suggestion is no longer current (one of the offers/needs changed or was closed).",
    ib_to_contact: "Go to the contact request", ib_settings: "Notification settings",
    ib_type_match: "Suggestion", ib_type_contact: "Contact", ib_type_moderation: "Moderation",
    ib_open_item: "View the entry",
  },
};

export function title(ctx) { return ctx.t("ib_title"); }

const pct = (value) => formatNumber(Math.round(Number(value || 0) * 100), 0);

export async function render(ctx) {
  const { t, session } = ctx;
  if (!session.signedIn) {
    draw(html`<h1>${t("ib_title")}</h1>${signInNeeded()}`, ctx.main);
    return;
  }
  const unreadOnly = ["1", "true"].includes(ctx.query.unread);
  const state = { loading: true, error: null, items: [], next: null, busy: false, notes: new Map() };
  const redraw = () => { if (ctx.isCurrent()) draw(view(), ctx.main); };

  async function load(cursor) {
    const answer = await api("/me/notifications", {
      query: { unread: unreadOnly ? "true" : undefined, limit: 20, cursor }, signal: ctx.signal });
    const items = answer.items || [];
    state.items = cursor ? [...state.items, ...items] : items;
    state.next = answer.next_cursor || null;
    return items;
  }

  async function more() {
    const before = state.items.length;
    state.busy = true; redraw();
    try {
      const added = await load(state.next);
      ctx.announce(t("ib_loaded_more", { n: added.length }));
    } catch (error) {
      if (error.name === "AbortError") return;
      state.error = error;
    }
    state.busy = false; redraw();
    const first = state.items[before];
    if (first) ctx.main.querySelector(`#note-${CSS.escape(first.id)} h2`)?.focus();
  }

  async function markRead(note, { focus = true } = {}) {
    if (note.read) return;
    try {
      const updated = await api(`/me/notifications/${encodeURIComponent(note.id)}/read`, { method: "POST" });
      note.read = updated ? Boolean(updated.read) : true;
      if (focus) ctx.announce(t("ib_marked_one", { title: label(note.title) }));
    } catch (error) {
      if (error.name === "AbortError") return;
      state.notes.set(note.id, errorText(error));
    }
    // In the unread view a read item stays until the next load, shown as read: nothing jumps.
    redraw();
    if (focus) ctx.main.querySelector(`#note-${CSS.escape(note.id)} h2`)?.focus();
  }

  async function markAll(event) {
    const button = event.currentTarget;
    state.busy = true; redraw();
    try {
      const answer = await api("/me/notifications/read-all", { method: "POST" });
      state.items.forEach((note) => { note.read = true; });
      const n = (answer && answer.updated) || 0;
      ctx.announce(n ? t("ib_marked_all", { n }) : t("ib_nothing_to_mark"));
    } catch (error) {
      if (error.name === "AbortError") return;
      ctx.announce(errorText(error));
      state.error = error;
    }
    state.busy = false; redraw();
    button?.focus();
  }

  // Following a link from an unread notification counts as reading it.
  function followed(note) {
    if (!note.read) api(`/me/notifications/${encodeURIComponent(note.id)}/read`, { method: "POST" }).catch(() => {});
  }

  // ---- views ----------------------------------------------------------------------------------
  function itemLink(kind, id, text, note) {
    if (!id) return nothing;
    return html`<span class="badge kind-${kind}">${t(kind)}</span>
      <a href="#/${kind}s/${encodeURIComponent(id)}" @click=${() => followed(note)}>${text || t(kind)}</a>`;
  }

  // One pair: its fit, both items, whether it is still current, and why it was suggested.
  // A coalesced notification (several new pairs of one item) lists each of its pairs so.
  function reasonsView(pair) {
    const reasons = Array.isArray(pair.reasons) ? pair.reasons : [];
    if (!reasons.length) return nothing;
    const total = pct(pair.score);
    return html`<details class="reasons">
      <summary>${t("ib_why")}</summary>
      <ul class="reason-list">
        ${reasons.map((reason) => html`<li>
          <span class="reason-label">${label(reason.label) || reason.factor}</span>
          <span class="reason-value">
            <meter min="0" max="1" value=${Number(reason.contribution) || 0} aria-hidden="true"></meter>
            <span>${t("ib_contribution", { points: pct(reason.contribution), total })}</span>
          </span></li>`)}
      </ul>
    </details>`;
  }

  function pairView(pair, note) {
    const role = pair.role === "offer" ? "offer" : "need";
    const other = role === "offer" ? "need" : "offer";
    const ownId = pair.item_id || pair[`${role}_id`];
    const ownTitle = pair[`${role}_title`];
    const counterpart = pair.counterpart || {};
    const otherId = counterpart.id || pair[`${other}_id`];
    const otherTitle = counterpart.title || pair[`${other}_title`];
    return html`
      ${pair.score != null ? html`<p class="fit"><strong>${t("ib_fit", { pct: pct(pair.score) })}</strong></p>` : nothing}
      <dl class="pairs">
        <dt>${t("ib_suggestion")}</dt><dd>${itemLink(other, otherId, otherTitle, note)}</dd>
        <dt>${t("ib_your_item")}</dt><dd>${itemLink(role, ownId, ownTitle, note)}</dd>
      </dl>
      ${pair.withdrawn || note.withdrawn ? html`<p class="notice warn">${t("ib_withdrawn")}</p>` : nothing}
      ${reasonsView(pair)}`;
  }

  function matchView(note) {
    const data = note.data || {};
    const pairs = Array.isArray(data.pairs) && data.pairs.length > 1 ? data.pairs : null;
    if (!pairs) return pairView(data, note);
    return html`<ol class="coalesced-pairs">
      ${pairs.map((pair) => html`<li>${pairView(pair, note)}</li>`)}
    </ol>`;
  }

  function contactView(note) {
    const data = note.data || {};
    return html`<div class="actions">
      ${data.contact_id ? html`<a class="button" href="#/contacts?id=${encodeURIComponent(data.contact_id)}"
          @click=${() => followed(note)}>${t("ib_to_contact")}</a>` : nothing}
    </div>`;
  }

  function hiddenView(note) {
    const data = note.data || {};
    const kind = data.kind === "offer" ? "offer" : "need";
    return html`<div class="actions">
      ${data.item_id ? html`<a class="button" href="#/${kind}s/${encodeURIComponent(data.item_id)}"
          @click=${() => followed(note)}>${t("ib_open_item")}</a>` : nothing}
    </div>`;
  }

  const TYPE_LABEL = { "match.found": "ib_type_match", "item.hidden": "ib_type_moderation" };

  function noteView(note) {
    const isMatch = note.type === "match.found";
    const headingId = `note-${note.id}-title`;
    const body = label(note.body);
    const error = state.notes.get(note.id);
    return html`<li class="card notification ${note.read ? "is-read" : "is-unread"}" id="note-${note.id}"
        aria-labelledby=${headingId}>
      <div class="note-head">
        <span class="badge note-type">${t(TYPE_LABEL[note.type] || "ib_type_contact")}</span>
        ${note.read ? html`<span class="visually-hidden">${t("ib_read")}</span>`
          : html`<span class="badge unread-badge">${t("ib_unread")}</span>`}
        <span class="meta"><span class="visually-hidden">${t("ib_received")} </span>
          <time datetime=${note.created_at}>${formatDateTime(note.created_at)}</time></span>
      </div>
      <h2 id=${headingId} tabindex="-1">${label(note.title)}</h2>
      ${body ? html`<p class="note-body">${body}</p>` : nothing}
      ${isMatch ? matchView(note) : note.type === "item.hidden" ? hiddenView(note) : contactView(note)}
      ${error ? html`<p class="notice error" role="alert">${error}</p>` : nothing}
      ${note.read ? nothing : html`<p><button type="button" class="link-button mark-read"
          aria-describedby=${headingId} @click=${() => markRead(note)}>${t("ib_mark_read")}</button></p>`}
    </li>`;
  }

  function view() {
    const head = html`<h1>${t("ib_title")}</h1>
      <p>${t("ib_intro")} <a href="#/settings/notifications">${t("ib_settings")}</a></p>`;
    if (state.loading) return html`${head}${loading()}`;
    return html`${head}
      <div class="toolbar">
        <nav class="segmented" aria-label=${t("ib_filter")}>
          <a href="#/inbox" aria-current=${unreadOnly ? nothing : "page"}>${t("ib_all")}</a>
          <a href="#/inbox?unread=1" aria-current=${unreadOnly ? "page" : nothing}>${t("ib_unread_only")}</a>
        </nav>
        <button type="button" class="mark-all" ?disabled=${state.busy} @click=${markAll}>${t("ib_mark_all")}</button>
      </div>
      ${state.error ? errorBox(state.error) : nothing}
      ${state.items.length
        ? html`<ul class="cards notifications">${state.items.map(noteView)}</ul>`
        : (state.error ? nothing : html`<p class="notice">${t(unreadOnly ? "ib_empty_unread" : "ib_empty")}</p>`)}
      ${state.next ? html`<p><button type="button" ?disabled=${state.busy} @click=${more}>${t("ib_more")}</button></p>` : nothing}`;
  }

  redraw();
  try { await load(); } catch (error) {
    if (error.name === "AbortError") throw error;
    state.error = error;
  }
  state.loading = false;
  redraw();
}

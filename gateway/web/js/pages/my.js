// #/my — my profiles, my offers and needs (every status) with edit/close and each published
// item's top suggestions.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, itemsOf } from "../core/api.js";
import { errorText, lang } from "../core/i18n.js";
import { other, ownActors, ownItems, plural } from "../core/items.js";
import { categoryTags, errorBox, itemHref, kindBadge, loading, signInNeeded, statusBadge } from "../core/ui.js";

export const TEXTS = {
  de: { m_title: "Meine Einträge", m_profiles: "Meine Profile", m_no_profiles: "Sie haben noch kein Profil.",
    m_new_profile: "Profil anlegen", m_edit_profile: "Profil {name} bearbeiten", m_view_profile: "Profil ansehen",
    m_offers: "Meine Angebote", m_needs: "Meine Gesuche", m_none_offer: "Noch keine Angebote.", m_none_need: "Noch keine Gesuche.",
    m_post: "Neuen Eintrag anlegen", m_edit: "{title} bearbeiten", m_close: "{title} schließen", m_edit_short: "Bearbeiten",
    m_close_short: "Schließen", m_close_confirm: "„{title}“ wirklich schließen?", m_closed: "„{title}“ wurde geschlossen.",
    m_top: "Beste Vorschläge", m_no_matches: "Noch keine Vorschläge.", m_score: "{score} %", m_all: "Alle Vorschläge ansehen" },
  en: { m_title: "My entries", m_profiles: "My profiles", m_no_profiles: "You have no profile yet.",
    m_new_profile: "Create a profile", m_edit_profile: "Edit profile {name}", m_view_profile: "View profile",
    m_offers: "My offers", m_needs: "My needs", m_none_offer: "No offers yet.", m_none_need: "No needs yet.",
    m_post: "Post a new entry", m_edit: "Edit {title}", m_close: "Close {title}", m_edit_short: "Edit",
    m_close_short: "Close", m_close_confirm: "Really close “{title}”?", m_closed: "“{title}” has been closed.",
    m_top: "Top suggestions", m_no_matches: "No suggestions yet.", m_score: "{score} %", m_all: "See all suggestions" },
};

const TOP = 3;

export function title(ctx) { return ctx.t("m_title"); }

export async function render(ctx) {
  const { t, main, vocab, session } = ctx;
  if (!session.signedIn) {
    draw(html`<h1>${t("m_title")}</h1>${signInNeeded()}`, main);
    return;
  }
  const state = { actors: null, offer: null, need: null, error: null, matches: {}, problems: {} };

  function matchesView(item) {
    if (item.status !== "published") return nothing;
    const matches = state.matches[item.id];
    const counter = other(item.kind);
    return html`<details><summary>${t("m_top")}${matches ? ` (${matches.length})` : ""}</summary>
      ${matches === undefined ? loading() : !matches.length ? html`<p class="meta">${t("m_no_matches")}</p>`
        : html`<ul>${matches.map((m) => html`<li><a href=${itemHref(counter, m[`${counter}_id`])}>${(m[counter] || {}).title || m[`${counter}_id`]}</a>
            <span class="meta">${t("m_score", { score: Math.round((m.score || 0) * 100) })}</span></li>`)}</ul>
          <a href=${itemHref(item.kind, item.id)}>${t("m_all")}</a>`}
    </details>`;
  }

  function itemView(item) {
    return html`<li class="card">
      <h3><a href=${itemHref(item.kind, item.id)}>${item.title}</a></h3>
      <p class="meta">${kindBadge(item.kind)} ${statusBadge(item.status)} ${item.place_name || ""}</p>
      <div>${categoryTags(vocab, item.categories)}</div>
      ${state.problems[item.id] ? html`<p class="notice error" role="alert">${errorText(state.problems[item.id])}</p>` : nothing}
      <div class="actions">
        <a class="button" href=${`${itemHref(item.kind, item.id)}/edit`} aria-label=${t("m_edit", { title: item.title })}>${t("m_edit_short")}</a>
        ${item.status === "published" ? html`<button type="button" class="danger" aria-label=${t("m_close", { title: item.title })}
          @click=${() => close(item)}>${t("m_close_short")}</button>` : nothing}
      </div>
      ${matchesView(item)}
    </li>`;
  }

  function section(kind) {
    const items = state[kind];
    return html`<section aria-labelledby=${`m-${kind}`}>
      <h2 id=${`m-${kind}`}>${t(kind === "offer" ? "m_offers" : "m_needs")}</h2>
      ${items === null ? loading() : items.length ? html`<ul class="cards grid-2">${items.map(itemView)}</ul>`
        : html`<p>${t(`m_none_${kind}`)}</p>`}
    </section>`;
  }

  function view() {
    return html`<h1>${t("m_title")}</h1>
      <p class="actions"><a class="button primary" href="#/post">${t("m_post")}</a></p>
      ${state.error ? errorBox(state.error) : nothing}
      <section aria-labelledby="m-profiles"><h2 id="m-profiles">${t("m_profiles")}</h2>
        ${state.actors === null ? loading() : html`
          ${state.actors.length ? html`<ul class="cards grid-2">${state.actors.map((actor) => html`<li class="card">
              <h3><a href=${`#/actors/${encodeURIComponent(actor.id)}`}>${actor.name}</a></h3>
              <p class="meta">${vocab.label("actor-types", actor.type)}${actor.place_name ? ` · ${actor.place_name}` : ""}</p>
              <a class="button" href=${`#/actors/${encodeURIComponent(actor.id)}/edit`}
                aria-label=${t("m_edit_profile", { name: actor.name })}>${t("m_edit_short")}</a></li>`)}</ul>`
            : html`<p>${t("m_no_profiles")}</p>`}
          <p><a href="#/actors/new">${t("m_new_profile")}</a></p>`}
      </section>
      ${section("need")}
      ${section("offer")}`;
  }
  const redraw = () => { if (ctx.isCurrent()) draw(view(), main); };

  async function close(item) {
    if (!window.confirm(t("m_close_confirm", { title: item.title }))) return;
    try {
      const closed = await api(`/${plural(item.kind)}/${encodeURIComponent(item.id)}`, { method: "DELETE",
        headers: { "If-Match": String(item.version) } });
      state[item.kind] = state[item.kind].map((i) => (i.id === item.id ? closed : i));
      delete state.problems[item.id];
      ctx.announce(t("m_closed", { title: item.title }));
    } catch (error) {
      state.problems[item.id] = error;
    }
    redraw();
  }

  redraw();
  try {
    const [actors, offers, needs] = await Promise.all([ownActors({ signal: ctx.signal }),
      ownItems("offer", { signal: ctx.signal }), ownItems("need", { signal: ctx.signal })]);
    Object.assign(state, { actors, offer: offers, need: needs });
  } catch (error) {
    if (error.name === "AbortError") return;
    Object.assign(state, { error, actors: state.actors || [], offer: state.offer || [], need: state.need || [] });
  }
  redraw();
  const published = [...(state.offer || []), ...(state.need || [])].filter((item) => item.status === "published");
  await Promise.all(published.map(async (item) => {
    try {
      const answer = await api(`/${plural(item.kind)}/${encodeURIComponent(item.id)}/matches`, {
        query: { limit: TOP, lang: lang() }, signal: ctx.signal });
      state.matches[item.id] = itemsOf(answer);
    } catch (error) {
      if (error.name === "AbortError") return;
      state.matches[item.id] = [];
    }
  }));
  redraw();
}

// #/actors/:id — an organisation's (or person's) public profile with its open offers and needs.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, itemsOf } from "../core/api.js";
import { isOwner } from "../core/items.js";
import { createMap, pointMarker } from "../core/map.js";
import { errorBox, itemCard, loading, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: { a_title: "Profil", a_not_found: "Profil nicht gefunden", a_place: "Ort", a_type: "Art", a_offers: "Offene Angebote",
    a_needs: "Offene Gesuche", a_none: "Zurzeit keine.", a_edit: "Profil bearbeiten", a_map: "Karte: Ort von {name}",
    a_email: "E-Mail", a_sign_in: "Profile sind für angemeldete Nutzerinnen und Nutzer sichtbar." },
  en: { a_title: "Profile", a_not_found: "Profile not found", a_place: "Place", a_type: "Kind", a_offers: "Open offers",
    a_needs: "Open needs", a_none: "None at the moment.", a_edit: "Edit profile", a_map: "Map: location of {name}",
    a_email: "E-mail", a_sign_in: "Profiles are visible to signed-in users." },
};

export function title(ctx) { return ctx.data.actor ? ctx.data.actor.name : ctx.t("a_title"); }

export async function render(ctx) {
  const { t, main, vocab, session, params } = ctx;
  draw(html`<h1>${t("a_title")}</h1>${loading()}`, main);
  let actor;
  try {
    actor = await api(`/actors/${encodeURIComponent(params.id)}`, { signal: ctx.signal });
  } catch (error) {
    if (error.name === "AbortError") return;
    if (error.status === 401) {
      draw(html`<h1>${t("a_title")}</h1><p>${t("a_sign_in")}</p>${signInNeeded()}`, main);
      return;
    }
    draw(html`<h1>${error.status === 404 ? t("a_not_found") : t("error_title")}</h1>${errorBox(error)}`, main);
    return;
  }
  ctx.data.actor = actor;
  const owner = isOwner(session, actor, null);
  const state = { offers: null, needs: null, error: null };

  function list(items) {
    if (items === null) return loading();
    if (!items.length) return html`<p>${t("a_none")}</p>`;
    return html`<ul class="cards grid-2">${items.map((item) => itemCard(item, vocab))}</ul>`;
  }

  function view() {
    return html`<div class="profile-head">
        ${actor.logo_url ? html`<img class="profile-logo" src=${actor.logo_url} alt="">` : nothing}
        <div><h1>${actor.name}</h1>
          <p class="meta">${vocab.label("actor-types", actor.type)}${actor.place_name ? html` · ${actor.place_name}` : nothing}</p></div>
      </div>
      ${actor.email ? html`<p>${t("a_email")}: <a href=${`mailto:${actor.email}`}>${actor.email}</a></p>` : nothing}
      ${owner ? html`<p class="actions"><a class="button" href=${`#/actors/${encodeURIComponent(actor.id)}/edit`}>${t("a_edit")}</a></p>` : nothing}
      <div class="item-map" id="a-map"></div>
      ${state.error ? errorBox(state.error) : nothing}
      <section aria-labelledby="a-offers"><h2 id="a-offers">${t("a_offers")}</h2>${list(state.offers)}</section>
      <section aria-labelledby="a-needs"><h2 id="a-needs">${t("a_needs")}</h2>${list(state.needs)}</section>`;
  }
  const redraw = () => { if (ctx.isCurrent()) draw(view(), main); };
  redraw();
  if (actor.location) {
    const map = createMap(main.querySelector("#a-map"), { center: actor.location, zoom: 12,
      tileUrl: ctx.config.map_tile_url, label: t("a_map", { name: actor.name }) });
    ctx.onCleanup(() => map.remove());
    pointMarker(actor.location, "actor").addTo(map).bindTooltip(actor.name);
  }
  try {
    const query = { actor_id: actor.id, status: "published", limit: 100 };
    const [offers, needs] = await Promise.all([api("/offers", { query, signal: ctx.signal }),
      api("/needs", { query, signal: ctx.signal })]);
    state.offers = itemsOf(offers);
    state.needs = itemsOf(needs);
  } catch (error) {
    if (error.name === "AbortError") return;
    state.error = error;
    state.offers = state.offers || [];
    state.needs = state.needs || [];
  }
  redraw();
}

// #/ — the selected municipality's home: welcome, its centre on the map, a search box and the
// latest needs nearby.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api } from "../core/api.js";
import { label } from "../core/i18n.js";
import { hashFor } from "../core/router.js";
import { centerMarker, createMap, pointMarker, radiusCircle } from "../core/map.js";
import { errorBox, itemCard, loading } from "../core/ui.js";

export const TEXTS = {
  de: {
    home_title: "Startseite", home_welcome: "Engagiert in {name}",
    home_intro: "Hier finden Menschen, Vereine, Initiativen, Schulen und Unternehmen zusammen: Bieten Sie Ihre Zeit und Ihr Können an oder finden Sie Unterstützung für Ihr Vorhaben.",
    home_search: "Was möchten Sie tun?", home_q: "Suchbegriff", home_q_hint: "z. B. Nachhilfe, Tafel, Garten",
    home_kind: "Ich suche", home_kind_need: "Wo ich helfen kann (Gesuche)", home_kind_offer: "Hilfe und Angebote",
    home_go: "Suchen", home_latest: "Neueste Gesuche in der Nähe", home_none: "Noch keine Gesuche in der Nähe.",
    home_all: "Alle Gesuche ansehen", home_post: "Selbst etwas eintragen", home_map: "Karte: {name} und die neuesten Gesuche",
    home_no_tenant: "Bitte wählen Sie oben eine Kommune.",
    map_label: "Karte",
  },
  en: {
    home_title: "Home", home_welcome: "Engaged in {name}",
    home_intro: "People, associations, initiatives, schools and companies meet here: offer your time and skills, or find support for your project.",
    home_search: "What would you like to do?", home_q: "Search term", home_q_hint: "e.g. tutoring, food bank, garden",
    home_kind: "I am looking for", home_kind_need: "Where I can help (needs)", home_kind_offer: "Help and offers",
    home_go: "Search", home_latest: "Latest needs nearby", home_none: "No needs nearby yet.",
    home_all: "See all needs", home_post: "Post something yourself", home_map: "Map: {name} and the latest needs",
    home_no_tenant: "Please choose a municipality above.",
    map_label: "Map",
  },
};

const NEARBY_KM = 25;

export function title(ctx) { return ctx.t("home_title"); }

export async function render(ctx) {
  const { t, main, tenant, vocab, center } = ctx;
  const branding = (tenant && tenant.branding) || {};
  const name = ctx.municipality || (tenant && tenant.name) || "";
  const welcome = label(branding.welcome_title || branding.wording?.welcome_title) || (name ? t("home_welcome", { name: tenant.name }) : t("home_title"));
  const intro = label(branding.welcome_text || branding.wording?.welcome_text) || t("home_intro");
  const state = { items: null, error: null };

  function onSearch(event) {
    event.preventDefault();
    const form = event.target;
    ctx.navigate(hashFor("#/search", { kind: form.kind.value, q: form.q.value.trim(),
      lat: center.lat, lon: center.lon, radius_km: NEARBY_KM, place: tenant ? tenant.name : "" }));
  }

  function view() {
    return html`
      <section class="hero">
        <h1>${welcome}</h1>
        <p class="lead">${intro}</p>
        <form class="home-search" role="search" @submit=${onSearch}>
          <h2 class="visually-hidden">${t("home_search")}</h2>
          <div class="field"><label for="home-kind">${t("home_kind")}</label>
            <select id="home-kind" name="kind">
              <option value="need">${t("home_kind_need")}</option>
              <option value="offer">${t("home_kind_offer")}</option>
            </select></div>
          <div class="field"><label for="home-q">${t("home_q")}</label>
            <input id="home-q" name="q" type="search" maxlength="200" placeholder=${t("home_q_hint")}></div>
          <div class="field"><button class="primary" type="submit">${t("home_go")}</button></div>
        </form>
        <p class="actions"><a class="button" href="#/post">${t("home_post")}</a></p>
      </section>
      ${tenant ? nothing : html`<p class="notice">${t("home_no_tenant")}</p>`}
      <div class="home-grid">
        <section aria-labelledby="home-latest">
          <h2 id="home-latest">${t("home_latest")}</h2>
          ${state.error ? errorBox(state.error, { retry: load }) : state.items === null ? loading()
            : state.items.length ? html`<ul class="cards">${state.items.map((item) => itemCard(item, vocab))}</ul>`
              : html`<p>${t("home_none")}</p>`}
          <p><a href=${hashFor("#/search", { kind: "need", lat: center.lat, lon: center.lon, radius_km: NEARBY_KM,
            place: tenant ? tenant.name : "" })}>${t("home_all")}</a></p>
        </section>
        <div class="home-map" id="home-map"></div>
      </div>`;
  }

  draw(view(), main);
  const map = createMap(main.querySelector("#home-map"), { center, zoom: 10, tileUrl: ctx.config.map_tile_url,
    label: t("home_map", { name: name || "NRW" }) });
  ctx.onCleanup(() => map.remove());
  radiusCircle(center, NEARBY_KM).addTo(map);
  centerMarker(center).addTo(map);
  const markers = [];

  async function load() {
    state.error = null;
    try {
      const page = await api("/search", { auth: true, signal: ctx.signal, query: { kind: "need", lat: center.lat,
        lon: center.lon, radius_km: NEARBY_KM, sort: "date", limit: 6 } });
      state.items = page.items || [];
    } catch (error) {
      if (error.name === "AbortError") return;
      state.error = error;
    }
    if (!ctx.isCurrent()) return;
    draw(view(), main);
    markers.splice(0).forEach((marker) => marker.remove());
    for (const item of state.items || []) {
      if (!item.location) continue;
      const marker = pointMarker(item.location, item.kind).addTo(map);
      marker.bindTooltip(item.title);
      marker.on("click", () => ctx.navigate(`#/needs/${encodeURIComponent(item.id)}`));
      markers.push(marker);
    }
  }
  load();
}

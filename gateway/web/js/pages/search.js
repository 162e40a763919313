// #/search?kind=&q=&place=&lat=&lon=&radius_km=&category=&engagement=&actor_type=&remote=&... —
// results as a list and on a map, in step. The query lives in the URL (shareable; Back restores).
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api } from "../core/api.js";
import { formatKm } from "../core/format.js";
import { label } from "../core/i18n.js";
import { mountPlaceField } from "../core/places.js";
import { hashFor } from "../core/router.js";
import { L, centerMarker, createMap, markerStyle, pointMarker, radiusCircle } from "../core/map.js";
import { errorBox, itemCard, itemHref, loading } from "../core/ui.js";
import { WEEKDAYS, weekdayName } from "../core/format.js";

export const TEXTS = {
  de: {
    s_title: "Engagement finden", s_kind: "Was suchen Sie?", s_kind_need: "Gesuche",
    s_kind_offer: "Angebote", s_kind_actor: "Organisationen", s_kind_all: "Angebote und Gesuche",
    s_q: "Suchbegriffe", s_place: "Ort", s_radius: "Umkreis", s_radius_km: "{km} km", s_submit: "Suchen",
    s_more_filters: "Weitere Filter", s_category: "Handlungsfelder", s_engagement: "Art des Engagements",
    s_actor_type: "Wer bietet oder sucht?", s_remote: "Ortsunabhängiges", s_remote_distance: "nur im Umkreis",
    s_remote_include: "ortsunabhängige zusätzlich zeigen", s_remote_only: "nur ortsunabhängige", s_remote_exclude: "keine ortsunabhängigen",
    s_accessible: "Nur barrierefreie", s_weekday: "Wochentag", s_any_day: "egal", s_time: "Uhrzeit", s_any_time: "egal",
    s_time_morning: "vormittags", s_time_afternoon: "nachmittags", s_time_evening: "abends",
    s_from: "Von (Datum)", s_to: "Bis (Datum)", s_sort: "Sortierung", s_sort_distance: "Entfernung", s_sort_date: "Neueste zuerst",
    s_sort_relevance: "Relevanz", s_results: "Ergebnisse", s_count: "{count} Treffer", s_count_one: "1 Treffer",
    s_none: "Nichts gefunden. Versuchen Sie einen größeren Umkreis oder weniger Filter.", s_load_more: "Weitere laden",
    s_loaded_more: "{count} weitere Treffer geladen.", s_map: "Karte der Treffer", s_reset: "Filter zurücksetzen",
    s_open: "Ansehen", s_place_unknown: "Ort nicht gefunden; es wird um {name} gesucht.",
    s_center: "Mittelpunkt: {name}",
  },
  en: {
    s_title: "Find engagement", s_kind: "What are you looking for?", s_kind_need: "Needs",
    s_kind_offer: "Offers", s_kind_actor: "Organisations", s_kind_all: "Offers and needs",
    s_q: "Search words", s_place: "Place", s_radius: "Radius", s_radius_km: "{km} km", s_submit: "Search",
    s_more_filters: "More filters", s_category: "Fields of engagement", s_engagement: "Kind of engagement",
    s_actor_type: "Who offers or asks?", s_remote: "Remote items", s_remote_distance: "only within the radius",
    s_remote_include: "also show remote items", s_remote_only: "remote items only", s_remote_exclude: "no remote items",
    s_accessible: "Accessible only", s_weekday: "Weekday", s_any_day: "any", s_time: "Time of day", s_any_time: "any",
    s_time_morning: "mornings", s_time_afternoon: "afternoons", s_time_evening: "evenings",
    s_from: "From (date)", s_to: "To (date)", s_sort: "Order", s_sort_distance: "Distance", s_sort_date: "Newest first",
    s_sort_relevance: "Relevance", s_results: "Results", s_count: "{count} results", s_count_one: "1 result",
    s_none: "Nothing found. Try a larger radius or fewer filters.", s_load_more: "Load more",
    s_loaded_more: "{count} more results loaded.", s_map: "Map of the results", s_reset: "Reset filters",
    s_open: "Open", s_place_unknown: "Place not found; searching around {name}.",
    s_center: "Centre: {name}",
  },
};

const RADII = [2, 5, 10, 25, 50, 100, 200];
const DEFAULT_RADIUS = 25;
const MULTI = ["category", "engagement", "actor_type"];
// Parameters of GET /api/v1/search this page can send when the API lists them in its OpenAPI.
const OPTIONAL_FILTERS = ["weekday", "time", "from", "to", "accessible"];
let supportedFilters = null;

async function searchParameters() {
  if (supportedFilters) return supportedFilters;
  try {
    const response = await fetch("/api/openapi.json", { headers: { Accept: "application/json" } });
    const doc = await response.json();
    const operation = doc.paths?.["/api/v1/search"]?.get || {};
    supportedFilters = new Set((operation.parameters || []).map((p) => p.name));
  } catch {
    supportedFilters = new Set();
  }
  return supportedFilters;
}

const many = (value) => (value === undefined ? [] : [].concat(value).filter(Boolean));

export function title(ctx) {
  const q = typeof ctx.query.q === "string" && ctx.query.q ? ` „${ctx.query.q}“` : "";
  return `${ctx.t("s_title")}${q}`;
}

export async function render(ctx) {
  const { t, main, vocab } = ctx;
  const supported = await searchParameters();
  const filters = OPTIONAL_FILTERS.filter((name) => supported.has(name));
  const state = {
    query: readQuery(ctx.query),
    items: null, facets: {}, total: 0, next: null, error: null, loadingMore: false, note: "",
  };
  let placeField = null;

  function readQuery(query) {
    const lat = Number(query.lat);
    const lon = Number(query.lon);
    const hasPoint = query.lat !== undefined && query.lon !== undefined && Number.isFinite(lat) && Number.isFinite(lon);
    const radius = Number(query.radius_km);
    return {
      kind: ["offer", "need", "actor"].includes(query.kind) ? query.kind : (query.kind === "all" ? "" : "need"),
      q: typeof query.q === "string" ? query.q : "",
      place: typeof query.place === "string" ? query.place : (hasPoint ? "" : (ctx.tenant ? ctx.tenant.name : "")),
      lat: hasPoint ? lat : ctx.center.lat,
      lon: hasPoint ? lon : ctx.center.lon,
      radius_km: Number.isFinite(radius) && radius > 0 ? Math.min(radius, 500) : DEFAULT_RADIUS,
      category: many(query.category), engagement: many(query.engagement), actor_type: many(query.actor_type),
      remote: ["include", "only", "exclude"].includes(query.remote) ? query.remote : "",
      accessible: query.accessible === "true" || query.accessible === "1",
      weekday: typeof query.weekday === "string" ? query.weekday : "",
      time: typeof query.time === "string" ? query.time : "",
      from: typeof query.from === "string" ? query.from : "",
      to: typeof query.to === "string" ? query.to : "",
      sort: ["distance", "date", "relevance"].includes(query.sort) ? query.sort : "",
    };
  }

  const urlQuery = (q) => ({ kind: q.kind || "all", q: q.q, place: q.place, lat: q.lat, lon: q.lon, radius_km: q.radius_km,
    category: q.category, engagement: q.engagement, actor_type: q.actor_type, remote: q.remote,
    accessible: q.accessible ? "true" : "", weekday: q.weekday, time: q.time, from: q.from, to: q.to, sort: q.sort });

  function apiQuery(q, cursor) {
    const query = { lat: q.lat, lon: q.lon, radius_km: q.radius_km, q: q.q || undefined,
      category: q.category, engagement: q.engagement, actor_type: q.actor_type, remote: q.remote || undefined,
      sort: q.sort || undefined, cursor, limit: 20 };
    if (q.kind) query.kind = q.kind;
    for (const name of filters) {
      if (name === "accessible") { if (q.accessible) query.accessible = "true"; }
      else if (q[name]) query[name] = q[name];
    }
    return query;
  }

  // ---- the form ---------------------------------------------------------------------------
  const facetCount = (name, value) => {
    const entry = (state.facets[name] || []).find((f) => f.value === value);
    return entry ? entry.count : 0;
  };

  function checkGroup(name, vocabName, legend) {
    const chosen = state.query[name];
    return html`<fieldset data-field=${name}><legend>${legend}</legend><div class="checks">
      ${vocab.list(vocabName).map((entry) => html`<label class="check">
        <input type="checkbox" name=${name} value=${entry.id} .checked=${chosen.includes(entry.id)}>
        <span>${label(entry.label)}${state.items ? html` <span class="meta">(${facetCount(name, entry.id)})</span>` : nothing}</span></label>`)}
    </div></fieldset>`;
  }

  function activeFilterCount() {
    const q = state.query;
    return q.category.length + q.engagement.length + q.actor_type.length + (q.remote ? 1 : 0) + (q.accessible ? 1 : 0)
      + (q.weekday ? 1 : 0) + (q.time ? 1 : 0) + (q.from ? 1 : 0) + (q.to ? 1 : 0);
  }

  function formView() {
    const q = state.query;
    const radii = RADII.includes(q.radius_km) ? RADII : [...RADII, q.radius_km].sort((a, b) => a - b);
    return html`<form class="search-form" role="search" aria-label=${t("s_title")} @submit=${onSubmit} novalidate>
      <div class="search-main">
        <div class="field"><label for="s-kind">${t("s_kind")}</label>
          <select id="s-kind" name="kind">
            <option value="need" ?selected=${q.kind === "need"}>${t("s_kind_need")}</option>
            <option value="offer" ?selected=${q.kind === "offer"}>${t("s_kind_offer")}</option>
            <option value="" ?selected=${q.kind === ""}>${t("s_kind_all")}</option>
            <option value="actor" ?selected=${q.kind === "actor"}>${t("s_kind_actor")}</option>
          </select></div>
        <div class="field"><label for="s-q">${t("s_q")}</label>
          <input id="s-q" name="q" type="search" maxlength="200" .value=${q.q}></div>
        <div id="s-place-host"></div>
        <div class="field"><label for="s-radius">${t("s_radius")}</label>
          <select id="s-radius" name="radius_km">
            ${radii.map((km) => html`<option value=${km} ?selected=${km === q.radius_km}>${t("s_radius_km", { km })}</option>`)}
          </select></div>
        <div class="field search-submit"><button class="primary" type="submit">${t("s_submit")}</button></div>
      </div>
      <details class="more-filters" ?open=${activeFilterCount() > 0}>
        <summary>${t("s_more_filters")}${activeFilterCount() ? ` (${activeFilterCount()})` : ""}</summary>
        ${checkGroup("category", "categories", t("s_category"))}
        <div class="row">
          ${checkGroup("engagement", "engagement-types", t("s_engagement"))}
          ${checkGroup("actor_type", "actor-types", t("s_actor_type"))}
        </div>
        <div class="row three">
          <div class="field"><label for="s-remote">${t("s_remote")}</label>
            <select id="s-remote" name="remote">
              ${["", "include", "only", "exclude"].map((mode) => html`<option value=${mode} ?selected=${q.remote === mode}>
                ${t(`s_remote_${mode || "distance"}`)}</option>`)}
            </select></div>
          <div class="field"><label for="s-sort">${t("s_sort")}</label>
            <select id="s-sort" name="sort">
              ${["", "date", "relevance"].map((sort) => html`<option value=${sort} ?selected=${q.sort === sort}>
                ${t(`s_sort_${sort || "distance"}`)}</option>`)}
            </select></div>
          ${filters.includes("accessible") ? html`<div class="field"><label class="check">
            <input type="checkbox" name="accessible" .checked=${q.accessible}> ${t("s_accessible")}</label></div>` : nothing}
        </div>
        ${filters.includes("weekday") || filters.includes("time") ? html`<div class="row">
          ${filters.includes("weekday") ? html`<div class="field"><label for="s-weekday">${t("s_weekday")}</label>
            <select id="s-weekday" name="weekday"><option value="">${t("s_any_day")}</option>
              ${WEEKDAYS.map((day) => html`<option value=${day} ?selected=${q.weekday === day}>${weekdayName(day)}</option>`)}
            </select></div>` : nothing}
          ${filters.includes("time") ? html`<div class="field"><label for="s-time">${t("s_time")}</label>
            <select id="s-time" name="time"><option value="">${t("s_any_time")}</option>
              ${["morning", "afternoon", "evening"].map((slot) => html`<option value=${slot} ?selected=${q.time === slot}>${t(`s_time_${slot}`)}</option>`)}
            </select></div>` : nothing}
        </div>` : nothing}
        ${filters.includes("from") || filters.includes("to") ? html`<div class="row">
          ${filters.includes("from") ? html`<div class="field"><label for="s-from">${t("s_from")}</label>
            <input id="s-from" name="from" type="date" .value=${q.from}></div>` : nothing}
          ${filters.includes("to") ? html`<div class="field"><label for="s-to">${t("s_to")}</label>
            <input id="s-to" name="to" type="date" .value=${q.to}></div>` : nothing}
        </div>` : nothing}
        <p><a href=${hashFor("#/search", { kind: q.kind || "all", q: q.q, place: q.place, lat: q.lat, lon: q.lon, radius_km: q.radius_km })}
          >${t("s_reset")}</a></p>
      </details>
    </form>`;
  }

  // ---- results ----------------------------------------------------------------------------
  function resultsView() {
    if (state.error) return errorBox(state.error, { retry: () => runSearch() });
    if (state.items === null) return loading();
    if (!state.items.length) return html`<p>${t("s_none")}</p>`;
    return html`<p class="meta" id="s-count">${state.total === 1 ? t("s_count_one") : t("s_count", { count: state.total })}
        ${state.query.place ? html` · ${t("s_center", { name: state.query.place })}` : nothing}</p>
      <ul class="cards results" @mouseover=${hover} @mouseout=${unhover} @focusin=${hover} @focusout=${unhover}>
        ${state.items.map((item) => itemCard(item, vocab, { heading: "h3" }))}
      </ul>
      ${state.next ? html`<button type="button" id="s-more" ?disabled=${state.loadingMore} @click=${loadMore}>
        ${state.loadingMore ? t("loading") : t("s_load_more")}</button>` : nothing}`;
  }

  function view() {
    return html`<h1>${t("s_title")}</h1>
      ${formView()}
      ${state.note ? html`<p class="notice warn">${state.note}</p>` : nothing}
      <div class="search-layout">
        <section class="search-results" aria-labelledby="s-results-title">
          <h2 id="s-results-title">${t("s_results")}</h2>
          ${resultsView()}
        </section>
        <div class="search-map" id="s-map"></div>
      </div>`;
  }

  function redraw() { if (ctx.isCurrent()) draw(view(), main); }

  // ---- map --------------------------------------------------------------------------------
  draw(view(), main);
  placeField = mountPlaceField(main.querySelector("#s-place-host"), {
    label: t("s_place"), name: "place", value: state.query.place, tenants: ctx.tenants,
    onPick(option) {
      state.query.place = option.name;
      state.query.lat = option.lat;
      state.query.lon = option.lon;
      state.picked = true;
    },
  });
  const map = createMap(main.querySelector("#s-map"), { center: state.query, zoom: 10,
    tileUrl: ctx.config.map_tile_url, label: t("s_map") });
  ctx.onCleanup(() => map.remove());
  const layer = L.layerGroup().addTo(map);
  const markers = new Map();

  function drawArea() {
    layer.clearLayers();
    markers.clear();
    const q = state.query;
    const circle = radiusCircle(q, q.radius_km).addTo(layer);
    centerMarker(q).addTo(layer);
    map.fitBounds(circle.getBounds(), { padding: [10, 10] });
  }

  function addMarkers(items) {
    for (const item of items) {
      if (!item.location || markers.has(item.id)) continue;
      const marker = pointMarker(item.location, item.kind).addTo(layer);
      const popup = document.createElement("div");
      draw(html`<strong>${item.title}</strong><br>
        ${item.distance_km != null ? html`<span>${formatKm(item.distance_km)}</span><br>` : nothing}
        <a href=${itemHref(item.kind, item.id)}>${t("s_open")}</a>`, popup);
      marker.bindPopup(popup);
      marker.bindTooltip(item.title);
      marker.on("mouseover", () => highlight(item.id, true));
      marker.on("mouseout", () => highlight(item.id, false));
      markers.set(item.id, { marker, kind: item.kind });
    }
  }

  function highlight(id, on) {
    const entry = markers.get(id);
    if (entry) {
      entry.marker.setStyle(markerStyle(entry.kind, on));
      if (on) entry.marker.bringToFront();
    }
    const card = main.querySelector(`.results li[data-id="${CSS.escape(id)}"]`);
    if (card) card.classList.toggle("active", on);
  }

  function cardId(event) {
    const card = event.target.closest && event.target.closest("li[data-id]");
    return card ? card.dataset.id : null;
  }
  function hover(event) { const id = cardId(event); if (id) highlight(id, true); }
  function unhover(event) {
    const id = cardId(event);
    if (!id) return;
    const to = event.relatedTarget && event.relatedTarget.closest && event.relatedTarget.closest("li[data-id]");
    if (to && to.dataset.id === id) return;
    highlight(id, false);
  }

  // ---- searching --------------------------------------------------------------------------
  async function runSearch() {
    state.items = null;
    state.error = null;
    redraw();
    drawArea();
    try {
      const page = await api("/search", { query: apiQuery(state.query), signal: ctx.signal });
      state.items = page.items || [];
      state.facets = page.facets || {};
      state.total = page.total ?? state.items.length;
      state.next = page.next_cursor || null;
      addMarkers(state.items);
      ctx.announce(state.total === 1 ? t("s_count_one") : t("s_count", { count: state.total }));
    } catch (error) {
      if (error.name === "AbortError") return;
      state.error = error;
      ctx.announce(t("error_title"));
    }
    redraw();
  }

  async function loadMore() {
    state.loadingMore = true;
    redraw();
    const before = state.items.length;
    try {
      const page = await api("/search", { query: apiQuery(state.query, state.next), signal: ctx.signal });
      const fresh = (page.items || []).filter((item) => !state.items.some((known) => known.id === item.id));
      state.items = [...state.items, ...fresh];
      state.next = page.next_cursor || null;
      addMarkers(fresh);
      state.loadingMore = false;
      redraw();
      ctx.announce(t("s_loaded_more", { count: fresh.length }));
      const first = main.querySelectorAll(".results > li")[before];
      first?.querySelector("a")?.focus();
    } catch (error) {
      if (error.name === "AbortError") return;
      state.loadingMore = false;
      state.error = error;
      redraw();
    }
  }

  async function resolvePlace(text) {
    try {
      const answer = await api("/places", { query: { q: text }, auth: false, signal: ctx.signal });
      const first = (answer.items || [])[0];
      if (first) return first;
    } catch (error) {
      if (error.name === "AbortError") throw error;
    }
    const lower = text.toLowerCase();
    const tenant = ctx.tenants.find((entry) => entry.center && String(entry.name).toLowerCase().includes(lower));
    return tenant ? { name: tenant.name, lat: tenant.center.lat, lon: tenant.center.lon } : null;
  }

  async function onSubmit(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const q = state.query;
    q.kind = data.get("kind") || "";
    q.q = String(data.get("q") || "").trim();
    q.radius_km = Number(data.get("radius_km")) || DEFAULT_RADIUS;
    for (const name of MULTI) q[name] = data.getAll(name).map(String);
    q.remote = String(data.get("remote") || "");
    q.sort = String(data.get("sort") || "");
    q.accessible = data.get("accessible") === "on";
    for (const name of ["weekday", "time", "from", "to"]) q[name] = String(data.get(name) || "");
    state.note = "";
    const typed = String(data.get("place") || "").trim();
    if (!typed) {
      q.place = ctx.tenant ? ctx.tenant.name : "";
      q.lat = ctx.center.lat; q.lon = ctx.center.lon;
    } else if (!state.picked && typed !== q.place) {
      const found = await resolvePlace(typed);
      if (found) { q.place = found.name; q.lat = found.lat; q.lon = found.lon; }
      else {
        q.place = ctx.tenant ? ctx.tenant.name : "";
        q.lat = ctx.center.lat; q.lon = ctx.center.lon;
        state.note = t("s_place_unknown", { name: q.place || "NRW" });
      }
      placeField.setValue(q.place);
    }
    state.picked = false;
    // The URL holds the search: a new history entry without re-rendering the page.
    history.pushState(null, "", hashFor("#/search", urlQuery(q)));
    document.title = `${title({ ...ctx, query: { q: q.q } })} – ${[ctx.municipality, "Engagement-Plattform"].filter(Boolean).join(" – ")}`;
    runSearch();
  }

  runSearch();
}

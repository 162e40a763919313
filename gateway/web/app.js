// The platform's small web client: plain JavaScript against the public API (/api/v1).
"use strict";

const TEXT = {
  de: {
    nav_search: "Suchen", nav_post: "Eintragen", nav_inbox: "Posteingang",
    login_demo: "Als Demo-Nutzer anmelden", logout: "Abmelden", signed_in_as: "Angemeldet als",
    search_title: "Engagement in der Nähe finden", place: "Ort", own_coordinates: "Eigene Koordinaten",
    lat: "Breitengrad", lon: "Längengrad", radius: "Umkreis (km)", kind: "Art",
    offers: "Angebote", needs: "Gesuche", actors: "Akteure", any: "alle", category: "Handlungsfeld",
    words: "Suchbegriffe", search: "Suchen", more: "Weitere laden", no_results: "Nichts gefunden.",
    results: "Treffer", away: "entfernt", remote: "auch aus der Ferne",
    post_title: "Angebot oder Gesuch eintragen", offer: "Angebot", need: "Gesuch",
    title: "Titel", description: "Beschreibung", categories: "Handlungsfelder",
    requirements: "Voraussetzungen", engagement: "Art des Engagements", visibility: "Sichtbarkeit",
    capacity: "Anzahl Plätze / Personen", publish: "Veröffentlichen", actor: "Als",
    new_actor: "Neues Profil anlegen", actor_type: "Profilart", name: "Name", email: "E-Mail",
    create_actor: "Profil anlegen", need_login: "Bitte zuerst anmelden.",
    matches: "Passende Vorschläge", why: "Warum dieser Vorschlag?", no_matches: "Noch keine Vorschläge.",
    score: "Passung", contact: "Kontakt anfragen", contact_sent: "Kontaktanfrage gesendet.",
    message: "Nachricht", inbox_title: "Posteingang", inbox_empty: "Keine Benachrichtigungen.",
    published: "Veröffentlicht.", status: "Status", loading: "Lädt …", open_item: "ansehen",
    mark_all_read: "Alle als gelesen markieren",
    status_published: "veröffentlicht", status_closed: "geschlossen", status_expired: "abgelaufen",
    status_hidden: "ausgeblendet",
  },
  en: {
    nav_search: "Search", nav_post: "Post", nav_inbox: "Inbox",
    login_demo: "Sign in as demo user", logout: "Sign out", signed_in_as: "Signed in as",
    search_title: "Find engagement nearby", place: "Place", own_coordinates: "Own coordinates",
    lat: "Latitude", lon: "Longitude", radius: "Radius (km)", kind: "Kind",
    offers: "Offers", needs: "Needs", actors: "Actors", any: "all", category: "Field",
    words: "Words", search: "Search", more: "Load more", no_results: "Nothing found.",
    results: "results", away: "away", remote: "remote possible",
    post_title: "Post an offer or a need", offer: "Offer", need: "Need",
    title: "Title", description: "Description", categories: "Fields of engagement",
    requirements: "Requirements", engagement: "Kind of engagement", visibility: "Visibility",
    capacity: "Places / people", publish: "Publish", actor: "As",
    new_actor: "Create a profile", actor_type: "Profile type", name: "Name", email: "E-mail",
    create_actor: "Create profile", need_login: "Please sign in first.",
    matches: "Suggested matches", why: "Why this suggestion?", no_matches: "No suggestions yet.",
    score: "Fit", contact: "Ask for contact", contact_sent: "Contact request sent.",
    message: "Message", inbox_title: "Inbox", inbox_empty: "No notifications.",
    published: "Published.", status: "Status", loading: "Loading …", open_item: "open",
    mark_all_read: "Mark all read",
    status_published: "published", status_closed: "closed", status_expired: "expired",
    status_hidden: "hidden",
  },
};

const state = {
  lang: localStorage.getItem("lang") || "de",
  token: localStorage.getItem("token"),
  sub: localStorage.getItem("sub"),
  tenants: [], tenantId: localStorage.getItem("tenant"),
  vocab: {}, config: { dev_login: false },
};

const $ = (selector, root = document) => root.querySelector(selector);
const t = (key) => (TEXT[state.lang] || TEXT.de)[key] || key;
const escapeHtml = (value) => String(value ?? "").replace(/[&<>"']/g,
  (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const label = (entry) => (entry && entry.label ? entry.label[state.lang] || entry.label.de : "");
const vocabLabel = (name, id) => label((state.vocab[name] || []).find((e) => e.id === id)) || id;
const km = (value) => new Intl.NumberFormat(state.lang, { maximumFractionDigits: 1 }).format(value);

async function api(path, { method = "GET", body, auth = true } = {}) {
  const headers = { "Accept": "application/json", "Accept-Language": state.lang };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && state.token) headers["Authorization"] = `Bearer ${state.token}`;
  const response = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => null);
  if (response.status === 401 && state.token) signOut();  // expired or foreign token
  if (!response.ok) {
    const error = (data && data.error) || { message: response.statusText };
    const details = (error.details || []).map?.((d) => `${d.field}: ${d.message}`) || [];
    throw new Error([error.message, ...details].join(" · "));
  }
  return data;
}

function show(html) { $("#view").innerHTML = html; }
function showError(error, where = "#view") {
  const box = document.createElement("p");
  box.className = "error";
  box.textContent = error.message || String(error);
  $(where).prepend(box);
}

// ---- tenants, branding, sign-in ------------------------------------------------------------
function currentTenant() {
  return state.tenants.find((tenant) => tenant.id === state.tenantId) || state.tenants[0];
}

function applyBranding() {
  const tenant = currentTenant();
  const branding = (tenant && tenant.branding) || {};
  $("#brand-name").textContent = branding.display_name || (tenant ? tenant.name : "Engagement-Plattform");
  document.documentElement.style.setProperty("--brand", branding.primary_color || "#005ca9");
  document.title = $("#brand-name").textContent;
}

async function loadTenants() {
  try {
    const answer = await api("/tenants", { auth: false });
    state.tenants = Array.isArray(answer) ? answer : answer.items || [];
  } catch (error) { state.tenants = []; }
  const select = $("#tenant-select");
  select.innerHTML = state.tenants.map((tenant) =>
    `<option value="${escapeHtml(tenant.id)}">${escapeHtml(tenant.name)}</option>`).join("");
  if (!currentTenant()) state.tenantId = null;
  if (currentTenant()) select.value = currentTenant().id;
  select.hidden = state.tenants.length === 0;
  applyBranding();
}

function renderAccount() {
  $("#who").textContent = state.token ? `${t("signed_in_as")} ${state.sub}` : "";
  $("#login").hidden = Boolean(state.token) || !state.config.dev_login;
  $("#logout").hidden = !state.token;
  $("#lang").textContent = state.lang === "de" ? "EN" : "DE";
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
}

async function signInAsDemo() {
  const tenant = currentTenant();
  const sub = `demo-${tenant ? tenant.id : "user"}`;
  const answer = await api("/auth/dev-token", { method: "POST", auth: false,
    body: { sub, tenant: tenant ? tenant.id : "demo", roles: ["member", "org_admin"] } });
  state.token = answer.access_token; state.sub = sub;
  localStorage.setItem("token", state.token); localStorage.setItem("sub", sub);
  renderAccount(); route();
}

function signOut() {
  state.token = null; state.sub = null;
  localStorage.removeItem("token"); localStorage.removeItem("sub");
  renderAccount();
}

// ---- search ----------------------------------------------------------------------------------
function options(name, selected, withAny) {
  const entries = (state.vocab[name] || []).map((entry) =>
    `<option value="${escapeHtml(entry.id)}" ${entry.id === selected ? "selected" : ""}>${escapeHtml(label(entry))}</option>`);
  return (withAny ? [`<option value="">${t("any")}</option>`] : []).concat(entries).join("");
}

function placeOptions() {
  return state.tenants.map((tenant) =>
    `<option value="${escapeHtml(tenant.id)}">${escapeHtml(tenant.name)}</option>`).join("")
    + `<option value="">${t("own_coordinates")}</option>`;
}

function renderSearch() {
  const center = (currentTenant() && currentTenant().center) || { lat: 50.94, lon: 6.96 };
  show(`<h1>${t("search_title")}</h1>
    <form id="search-form" class="grid">
      <label>${t("place")}<select name="place">${placeOptions()}</select></label>
      <label>${t("lat")}<input name="lat" type="number" step="any" min="-90" max="90" value="${center.lat}" required></label>
      <label>${t("lon")}<input name="lon" type="number" step="any" min="-180" max="180" value="${center.lon}" required></label>
      <label>${t("radius")}<input name="radius_km" type="number" min="1" max="500" value="25" required></label>
      <label>${t("kind")}<select name="kind"><option value="need">${t("needs")}</option>
        <option value="offer">${t("offers")}</option><option value="actor">${t("actors")}</option></select></label>
      <label>${t("category")}<select name="category">${options("categories", "", true)}</select></label>
      <label class="wide">${t("words")}<input name="q" type="search"></label>
      <div class="wide"><button class="primary">${t("search")}</button></div>
    </form>
    <div id="results"></div>`);
  const form = $("#search-form");
  if (currentTenant()) form.place.value = currentTenant().id;
  form.place.addEventListener("change", () => {
    const tenant = state.tenants.find((entry) => entry.id === form.place.value);
    if (tenant && tenant.center) { form.lat.value = tenant.center.lat; form.lon.value = tenant.center.lon; }
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); runSearch(form, null); });
  runSearch(form, null);
}

async function runSearch(form, cursor) {
  const params = new URLSearchParams();
  for (const name of ["kind", "lat", "lon", "radius_km", "category", "q"]) {
    if (form[name].value) params.set(name, form[name].value);
  }
  if (cursor) params.set("cursor", cursor);
  const results = $("#results");
  if (!cursor) results.innerHTML = `<p class="meta">${t("loading")}</p>`;
  try {
    const page = await api(`/search?${params}`);
    const items = page.items.map((item) => `<li>
        <a href="#/item/${escapeHtml(item.kind)}/${encodeURIComponent(item.id)}"><strong>${escapeHtml(item.title)}</strong></a>
        <div class="meta">${item.distance_km != null ? `${km(item.distance_km)} km ${t("away")}` : ""}
          ${item.place_name ? " · " + escapeHtml(item.place_name) : ""}${item.remote ? " · " + t("remote") : ""}</div>
        <div>${(item.categories || []).map((c) => `<span class="tag">${escapeHtml(vocabLabel("categories", c))}</span>`).join("")}</div>
      </li>`).join("");
    if (!cursor) {
      results.innerHTML = page.items.length
        ? `<p class="meta">${page.total ?? page.items.length} ${t("results")}</p><ul class="results"></ul>`
        : `<p>${t("no_results")}</p>`;
    }
    const list = $("ul.results", results);
    if (list) list.insertAdjacentHTML("beforeend", items);
    $("#more", results)?.remove();
    if (page.next_cursor) {
      results.insertAdjacentHTML("beforeend", `<button id="more" type="button">${t("more")}</button>`);
      $("#more").addEventListener("click", () => runSearch(form, page.next_cursor));
    }
  } catch (error) { results.innerHTML = ""; showError(error, "#results"); }
}

// ---- posting ---------------------------------------------------------------------------------
async function myActors() {
  const exported = await api("/me/export");
  return ((exported.profiles || {}).actors || []);
}

function checkboxes(name, field) {
  return (state.vocab[name] || []).map((entry) => `<label class="check">
      <input type="checkbox" name="${field}" value="${escapeHtml(entry.id)}"> ${escapeHtml(label(entry))}</label>`).join("");
}

async function renderPost() {
  if (!state.token) { show(`<p class="notice">${t("need_login")}</p>`); return; }
  show(`<h1>${t("post_title")}</h1><p class="meta">${t("loading")}</p>`);
  let actors = [];
  try { actors = await myActors(); } catch (error) { showError(error); }
  const center = (currentTenant() && currentTenant().center) || { lat: 50.94, lon: 6.96 };
  const actorChoice = actors.length
    ? `<label>${t("actor")}<select name="actor_id">${actors.map((a) =>
        `<option value="${escapeHtml(a.id)}">${escapeHtml(a.name)}</option>`).join("")}</select></label>`
    : `<fieldset class="wide"><legend>${t("new_actor")}</legend>
        <label>${t("actor_type")}<select name="actor_type">${options("actor-types", "person")}</select></label>
        <label>${t("name")}<input name="actor_name" required maxlength="200"></label>
        <label>${t("email")}<input name="actor_email" type="email" required></label></fieldset>`;
  show(`<h1>${t("post_title")}</h1>
    <form id="post-form" class="grid">
      <label>${t("kind")}<select name="kind"><option value="need">${t("need")}</option>
        <option value="offer">${t("offer")}</option></select></label>
      ${actorChoice}
      <label class="wide">${t("title")}<input name="title" required maxlength="200"></label>
      <label class="wide">${t("description")}<textarea name="description" rows="4"></textarea></label>
      <fieldset class="wide"><legend>${t("categories")}</legend>${checkboxes("categories", "categories")}</fieldset>
      <fieldset class="wide"><legend>${t("requirements")}</legend>${checkboxes("requirements", "requirements")}</fieldset>
      <label>${t("engagement")}<select name="engagement">${options("engagement-types", "spontaneous")}</select></label>
      <label>${t("visibility")}<select name="visibility">${options("visibilities", "region")}</select></label>
      <label>${t("lat")}<input name="lat" type="number" step="any" value="${center.lat}" required></label>
      <label>${t("lon")}<input name="lon" type="number" step="any" value="${center.lon}" required></label>
      <label>${t("radius")}<input name="radius_km" type="number" min="1" max="500" value="15" required></label>
      <label>${t("capacity")}<input name="capacity" type="number" min="1" value="1" required></label>
      <label class="check"><input type="checkbox" name="remote"> ${t("remote")}</label>
      <div class="wide"><button class="primary">${t("publish")}</button></div>
    </form>`);
  const form = $("#post-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((box) => box.value);
    const place = { lat: Number(form.lat.value), lon: Number(form.lon.value) };
    try {
      let actorId = form.actor_id ? form.actor_id.value : null;
      if (!actorId) {
        const actor = await api("/actors", { method: "POST", body: {
          type: form.actor_type.value, name: form.actor_name.value, email: form.actor_email.value,
          location: place, locale: state.lang } });
        actorId = actor.id;
      }
      const item = await api(`/${form.kind.value}s`, { method: "POST", body: {
        actor_id: actorId, title: form.title.value, description: form.description.value,
        categories: checked("categories"), requirements: checked("requirements"),
        engagement: form.engagement.value, visibility: form.visibility.value, location: place,
        radius_km: Number(form.radius_km.value), capacity: Number(form.capacity.value),
        remote: form.remote.checked } });
      goTo(`#/item/${form.kind.value}/${encodeURIComponent(item.id)}`);
    } catch (error) { showError(error); }
  });
}

function goTo(hash) { window.location.hash = hash; }

// ---- one item and its matches ------------------------------------------------------------
async function renderItem(kind, id) {
  show(`<p class="meta">${t("loading")}</p>`);
  let item;
  try { item = await api(`/${kind}s/${encodeURIComponent(id)}`); } catch (error) { show(""); showError(error); return; }
  show(`<h1>${escapeHtml(item.title)}</h1>
    <p class="meta">${t(kind)} · ${escapeHtml(vocabLabel("engagement-types", item.engagement))}
      ${item.place_name ? " · " + escapeHtml(item.place_name) : ""} · ${t("status")}: ${escapeHtml(t("status_" + item.status))}</p>
    <p>${escapeHtml(item.description)}</p>
    <div>${(item.categories || []).map((c) => `<span class="tag">${escapeHtml(vocabLabel("categories", c))}</span>`).join("")}</div>
    ${(item.requirements || []).length ? `<p class="meta">${t("requirements")}: ${item.requirements.map((r) => escapeHtml(vocabLabel("requirements", r))).join(", ")}</p>` : ""}
    <h2>${t("matches")}</h2><div id="matches">${state.token ? t("loading") : t("need_login")}</div>`);
  if (state.token) renderMatches(kind, id, item);
}

async function renderMatches(kind, id, item) {
  const box = $("#matches");
  try {
    const answer = await api(`/${kind}s/${encodeURIComponent(id)}/matches`);
    const matches = answer.items || [];
    if (!matches.length) { box.textContent = t("no_matches"); return; }
    const other = kind === "offer" ? "need" : "offer";
    box.innerHTML = `<ul class="results">${matches.map((match, index) => {
      const otherId = match[`${other}_id`];
      const title = (match[other] && match[other].title) || match.title || otherId;
      const reasons = (match.reasons || []).map((reason) => `<li>
          <span class="bar" style="width:${Math.round(Math.max(0, reason.contribution || 0) * 200)}px"></span>
          ${escapeHtml(reason.label ? reason.label[state.lang] || reason.label.de : reason.factor)}
          <span class="meta">(+${Math.round((reason.contribution || 0) * 100)})</span></li>`).join("");
      return `<li>
        <a href="#/item/${other}/${encodeURIComponent(otherId)}"><strong>${escapeHtml(title)}</strong></a>
        <span class="score">${t("score")} ${Math.round((match.score || 0) * 100)} %</span>
        <details><summary>${t("why")}</summary><ul>${reasons}</ul></details>
        <form class="contact" data-index="${index}"><input name="message" placeholder="${t("message")}" maxlength="1000">
          <button type="submit">${t("contact")}</button></form>
      </li>`;
    }).join("")}</ul>`;
    box.querySelectorAll("form.contact").forEach((form) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const match = matches[Number(form.dataset.index)];
      try {
        await api("/contacts", { method: "POST", body: {
          offer_id: match.offer_id, need_id: match.need_id, message: form.message.value } });
        form.outerHTML = `<p class="notice">${t("contact_sent")}</p>`;
      } catch (error) { showError(error, "#matches"); }
    }));
  } catch (error) { box.textContent = ""; showError(error, "#matches"); }
}

// ---- inbox -----------------------------------------------------------------------------------
async function renderInbox() {
  if (!state.token) { show(`<p class="notice">${t("need_login")}</p>`); return; }
  show(`<h1>${t("inbox_title")}</h1><div id="inbox">${t("loading")}</div>`);
  try {
    const answer = await api("/me/notifications");
    const items = answer.items || [];
    const text = (value) => (value && typeof value === "object" ? value[state.lang] || value.de : value);
    $("#inbox").innerHTML = items.length ? `<button id="read-all" type="button">${t("mark_all_read")}</button>
      <ul class="results">${items.map((n) => {
        const data = n.data || {};
        const link = data.need_id && data.offer_id ? `<a href="#/item/need/${encodeURIComponent(data.need_id)}">${t("open_item")}</a>` : "";
        return `<li class="${n.read ? "" : "unread"}"><strong>${escapeHtml(text(n.title))}</strong>
          <div>${escapeHtml(text(n.body))}</div>
          <div class="meta">${escapeHtml(new Date(n.created_at).toLocaleString(state.lang))} ${link}</div></li>`;
      }).join("")}</ul>` : `<p>${t("inbox_empty")}</p>`;
    $("#read-all")?.addEventListener("click", async () => {
      try { await api("/me/notifications/read-all", { method: "POST", body: {} }); renderInbox(); }
      catch (error) { showError(error, "#inbox"); }
    });
  } catch (error) { $("#inbox").textContent = ""; showError(error, "#inbox"); }
}

// ---- routing ---------------------------------------------------------------------------------
function route() {
  const [, page = "search", kind, id] = (window.location.hash || "#/search").split("/");
  document.querySelectorAll("header nav a").forEach((link) =>
    link.classList.toggle("active", link.getAttribute("href") === `#/${page}`));
  if (page === "post") return renderPost();
  if (page === "inbox") return renderInbox();
  if (page === "item" && (kind === "offer" || kind === "need") && id) return renderItem(kind, decodeURIComponent(id));
  return renderSearch();
}

async function start() {
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "de" ? "en" : "de";
    localStorage.setItem("lang", state.lang);
    renderAccount(); route();
  });
  $("#login").addEventListener("click", () => signInAsDemo().catch((error) => showError(error)));
  $("#logout").addEventListener("click", () => { signOut(); route(); });
  $("#tenant-select").addEventListener("change", (event) => {
    state.tenantId = event.target.value; localStorage.setItem("tenant", state.tenantId);
    applyBranding(); route();
  });
  window.addEventListener("hashchange", route);
  const vocabularies = ["categories", "requirements", "engagement-types", "actor-types", "visibilities"];
  const [config] = await Promise.all([
    api("/client-config", { auth: false }).catch(() => ({ dev_login: false })),
    loadTenants(),
    ...vocabularies.map(async (name) => {
      state.vocab[name] = await api(`/${name}`, { auth: false }).catch(() => []);
    }),
  ]);
  state.config = config;
  renderAccount();
  route();
}

start();

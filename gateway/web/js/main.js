// Entry of the web client: loads configuration, municipalities and vocabularies, draws the shell
// (header, navigation, account, language) and starts the router.
import { html, render, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, itemsOf } from "./core/api.js";
import { forgetActor } from "./core/account.js";
import { applyBranding } from "./core/branding.js";
import { label, lang, onLangChange, setLang, t } from "./core/i18n.js";
import { createRouter, parseHash } from "./core/router.js";
import { session } from "./core/session.js";
import { NOT_FOUND, ROUTES } from "./routes.js";

const TENANT_KEY = "engage.tenant";
const VOCABULARIES = ["categories", "requirements", "engagement-types", "actor-types", "visibilities"];
const DEFAULT_CENTER = { lat: 51.43, lon: 7.66 }; // the middle of NRW, when nothing else is known

const shell = {
  config: { auth_mode: "dev", dev_login: true, map_tile_url: "" },
  tenants: [],
  tenant: null,
  vocab: makeVocab({}),
};

function makeVocab(lists) {
  return {
    ...lists,
    /** The label of `id` in vocabulary `name` ("categories", "requirements", ...), in the current language. */
    label(name, id) {
      const entry = (lists[name] || []).find((e) => e.id === id);
      return entry ? label(entry.label) : id;
    },
    list(name) { return lists[name] || []; },
  };
}

const main = document.getElementById("view");
const header = document.getElementById("site-header");
const footer = document.getElementById("site-footer");
const status = document.getElementById("status");

// ---- announcements --------------------------------------------------------------------------
let announceTimer = null;
export function announce(text) {
  status.textContent = "";
  clearTimeout(announceTimer);
  // A short pause, so the same text twice is announced twice.
  announceTimer = setTimeout(() => { status.textContent = text; }, 50);
}

// ---- municipality ----------------------------------------------------------------------------
function municipalityName() {
  const tenant = shell.tenant;
  if (!tenant) return "";
  return (tenant.branding && tenant.branding.display_name) || tenant.name || tenant.id;
}

function tenantCenter() {
  return (shell.tenant && shell.tenant.center) || DEFAULT_CENTER;
}

async function selectTenant(id, { refresh = true } = {}) {
  const listed = shell.tenants.find((entry) => entry.id === id) || shell.tenants[0] || null;
  shell.tenant = listed;
  if (listed) {
    localStorage.setItem(TENANT_KEY, listed.id);
    try {
      shell.tenant = { ...listed, ...(await api(`/tenants/${encodeURIComponent(listed.id)}`, { auth: false })) };
    } catch { /* the list entry is enough */ }
  }
  applyBranding((shell.tenant && shell.tenant.branding) || {});
  drawShell();
  if (refresh) router.refresh();
}

// ---- the shell -------------------------------------------------------------------------------
const NAV = [
  { href: "#/search", key: "nav_search" },
  { href: "#/post", key: "nav_post" },
  { href: "#/my", key: "nav_my" },
  { href: "#/me/engagements", key: "nav_engagements", show: () => session.signedIn },
  { href: "#/contacts", key: "nav_contacts" },
  { href: "#/inbox", key: "nav_inbox" },
  { href: "#/admin", key: "nav_admin", show: () => session.hasRole("tenant_admin") || session.hasRole("operator") },
];

function isCurrent(href) {
  const { path } = parseHash(window.location.hash);
  return path === href || path.startsWith(`${href}/`);
}

function headerView() {
  const branding = (shell.tenant && shell.tenant.branding) || {};
  const logo = branding.logo_url && /^https?:\/\//.test(branding.logo_url) ? branding.logo_url : null;
  const name = municipalityName() || t("app_name");
  return html`
    <div class="header-top">
      <a class="brand" href="#/">
        ${logo ? html`<img class="brand-logo" src=${logo} alt="" width="40" height="40">` : nothing}
        <span class="brand-text"><span class="brand-name">${name}</span>
          <span class="brand-sub">${t("app_name")}</span></span>
      </a>
      <div class="header-tools">
        ${shell.tenants.length ? html`<div class="municipality">
            <label for="tenant-select">${t("municipality")}</label>
            <select id="tenant-select" @change=${(event) => selectTenant(event.target.value)}>
              ${shell.tenants.map((tenant) => html`<option value=${tenant.id}
                  ?selected=${shell.tenant && tenant.id === shell.tenant.id}>${tenant.name}</option>`)}
            </select></div>` : nothing}
        <div class="account">
          ${session.signedIn
            ? html`<span class="who">${t("signed_in_as", { name: session.label })}</span>
                <button type="button" class="link-button" id="sign-out" @click=${onSignOut}>${t("sign_out")}</button>`
            : html`<a class="button-link" id="sign-in-link" href="#/sign-in">${t("sign_in")}</a>`}
          <button type="button" class="lang-toggle" id="lang-toggle" lang=${lang() === "de" ? "en" : "de"}
            @click=${() => setLang(lang() === "de" ? "en" : "de")}>${t("other_language")}</button>
        </div>
      </div>
    </div>
    <nav class="main-nav" aria-label=${t("nav_label")}>
      <ul>
        ${NAV.filter((entry) => !entry.show || entry.show()).map((entry) => html`<li>
          <a href=${entry.href} aria-current=${isCurrent(entry.href) ? "page" : nothing}>${t(entry.key)}</a></li>`)}
      </ul>
    </nav>`;
}

function footerView() {
  return html`<nav aria-label=${t("footer_nav")}>
      <a href="#/impressum">Impressum</a>
      <a href="#/datenschutz">${lang() === "en" ? "Privacy" : "Datenschutz"}</a>
      <a href="/api/docs">API</a>
    </nav>
    <p class="footer-note">${t("app_name")}${municipalityName() ? html` · ${municipalityName()}` : nothing}</p>`;
}

let shellDrawn = false;
function drawShell() {
  if (!shellDrawn) { header.replaceChildren(); footer.replaceChildren(); shellDrawn = true; }
  document.documentElement.lang = lang();
  const skip = document.getElementById("skip-link");
  if (skip) skip.textContent = t("skip_link");
  render(headerView(), header);
  render(footerView(), footer);
}

function onSignOut() {
  session.signOut();
  router.navigate("#/");
}

// ---- the router ------------------------------------------------------------------------------
function makeContext({ params, query, path, main: container, signal, onCleanup }) {
  return {
    params, query, path, main: container, signal, onCleanup,
    navigate: (hash, options) => router.navigate(hash, options),
    session, t, announce, api,
    tenant: shell.tenant, tenants: shell.tenants, config: shell.config, vocab: shell.vocab,
    center: tenantCenter(),
    municipality: municipalityName(),
    selectTenant: (id) => selectTenant(id),
    data: {},
  };
}

const router = createRouter({
  routes: ROUTES, notFound: NOT_FOUND, main, makeContext,
  siteTitle: () => [municipalityName(), "Engagement-Plattform"].filter(Boolean).join(" – "),
  onRendered: () => drawShell(),
});

// ---- start -----------------------------------------------------------------------------------
async function start() {
  document.documentElement.lang = lang();
  document.getElementById("skip-link")?.addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
    main.scrollIntoView();
  });
  onLangChange(() => { drawShell(); router.refresh(); });
  session.onChange((_state, extra = {}) => {
    drawShell();
    if (extra.expired) announce(t("error.invalid_token"));
    // Only the profile acted as changed (e.g. an organisation was just closed): the page stays.
    if (!extra.actor) router.refresh();
  });

  const [config, tenants, ...lists] = await Promise.all([
    api("/client-config", { auth: false }).catch(() => null),
    api("/tenants", { auth: false }).then(itemsOf).catch(() => []),
    ...VOCABULARIES.map((name) => api(`/${name}`, { auth: false }).then(itemsOf).catch(() => [])),
  ]);
  if (config) shell.config = { ...shell.config, ...config };
  shell.tenants = [...tenants].sort((a, b) => String(a.name).localeCompare(String(b.name), "de"));
  shell.vocab = makeVocab(Object.fromEntries(VOCABULARIES.map((name, index) => [name, lists[index]])));
  const wanted = localStorage.getItem(TENANT_KEY) || session.tenant;
  await selectTenant(wanted, { refresh: false });
  await router.start();
  forgetActor(); // the stored profile may have been closed or deleted meanwhile
}

start().catch((error) => {
  console.error(error);
  main.textContent = String(error && error.message || error);
});

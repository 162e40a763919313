// The embeddable widget (/embed/needs?tenant=<id>&lang=de|en&limit=5): a municipality's current
// needs for its own website, each linking to the platform. Public data only: titles, place names
// and fields, never coordinates.
import { html, render, nothing } from "/static/vendor/lit-html/lit-html.js";

const TEXT = {
  de: { heading: "Aktuelle Gesuche in {name}", all: "Alle Gesuche auf der Engagement-Plattform",
        empty: "Zurzeit gibt es keine offenen Gesuche.", error: "Die Gesuche können gerade nicht geladen werden.",
        opens: "(öffnet in neuem Fenster)", remote: "auch aus der Ferne" },
  en: { heading: "Current needs in {name}", all: "All needs on the volunteering platform",
        empty: "There are no open needs at the moment.", error: "The needs cannot be loaded right now.",
        opens: "(opens in a new window)", remote: "remote possible" },
};

const params = new URLSearchParams(window.location.search);
const lang = params.get("lang") === "en" ? "en" : "de";
const tenantId = params.get("tenant") || "";
const limit = Math.min(Math.max(parseInt(params.get("limit") || "5", 10) || 5, 1), 20);
const words = TEXT[lang];
const say = (key, vars = {}) => words[key].replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? "");
document.documentElement.lang = lang;

async function get(path) {
  const response = await fetch(`/api/v1${path}`, { headers: { Accept: "application/json", "Accept-Language": lang } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

const label = (entry) => (entry && entry.label ? entry.label[lang] || entry.label.de : "");

function applyColours(branding) {
  const root = document.documentElement.style;
  for (const [key, variable] of [["primary_color", "--primary"], ["text_color", "--text"],
                                 ["background_color", "--background"]]) {
    if (branding && /^#[0-9a-f]{6}$/i.test(branding[key] || "")) root.setProperty(variable, branding[key]);
  }
}

function view(tenant, needs, categories) {
  const name = (tenant.branding && tenant.branding.display_name) || tenant.name || tenant.id;
  document.title = `${say("heading", { name })} – Engagement-Plattform`;
  const fields = (ids) => ids.map((id) => label(categories.find((c) => c.id === id)) || id).join(", ");
  return html`<h1>${say("heading", { name })}</h1>
    ${needs.length ? html`<ul>${needs.map((need) => html`<li>
        <a href="/#/needs/${encodeURIComponent(need.id)}" target="_blank" rel="noopener">${need.title}
          <span class="visually-hidden">${say("opens")}</span></a>
        <span class="meta">${[need.place_name, fields(need.categories || []),
                              need.remote ? say("remote") : ""].filter(Boolean).join(" · ")}</span>
      </li>`)}</ul>` : html`<p class="empty">${say("empty")}</p>`}
    <a class="all" href="/#/search?kind=need" target="_blank" rel="noopener">${say("all")}</a>`;
}

async function main() {
  const root = document.getElementById("widget");
  try {
    if (!/^[a-z0-9-]{1,64}$/.test(tenantId)) throw new Error("no tenant");
    const [tenant, page, categories] = await Promise.all([
      get(`/tenants/${encodeURIComponent(tenantId)}`),
      get(`/search?kind=need&tenant=${encodeURIComponent(tenantId)}&sort=date&limit=${limit}`),
      get("/categories"),
    ]);
    applyColours(tenant.branding);
    render(view(tenant, page.items || [], categories), root);
  } catch (error) {
    render(html`<p class="error" role="alert">${words.error}</p>${nothing}`, root);
  }
}

main();

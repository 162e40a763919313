// #/sign-in — dev mode: pick a demo persona (GET /api/v1/auth/personas); without that list, one
// demo account of the selected municipality.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, itemsOf } from "../core/api.js";
import { signIn } from "../core/account.js";
import { errorText, label } from "../core/i18n.js";
import { loading } from "../core/ui.js";

export const TEXTS = {
  de: {
    si_title: "Anmelden", si_intro: "Dies ist eine Demo-Umgebung: Wählen Sie eine Person oder Organisation, als die Sie die Plattform ausprobieren.",
    si_here: "In {name}", si_others: "In anderen Kommunen", si_as: "Anmelden als {name}",
    si_demo: "Als Demo-Nutzer anmelden", si_no_dev: "Die Anmeldung läuft über den Identitätsanbieter des Landes; er ist in dieser Umgebung nicht eingerichtet.",
    si_signed_in: "Sie sind angemeldet als {name}.", si_kind_volunteer: "Freiwillige*r", si_kind_association: "Verein",
    si_kind_company: "Unternehmen", si_kind_tenant_admin: "Kommunen-Verwaltung", si_kind_operator: "Landesbetrieb",
    si_done: "Angemeldet als {name}.", si_show: "{count} Zugänge anzeigen",
  },
  en: {
    si_title: "Sign in", si_intro: "This is a demo environment: choose a person or organisation to try the platform as.",
    si_here: "In {name}", si_others: "In other municipalities", si_as: "Sign in as {name}",
    si_demo: "Sign in as demo user", si_no_dev: "Sign-in goes through the state's identity provider; it is not set up in this environment.",
    si_signed_in: "You are signed in as {name}.", si_kind_volunteer: "Volunteer", si_kind_association: "Association",
    si_kind_company: "Company", si_kind_tenant_admin: "Municipal administration", si_kind_operator: "State operator",
    si_done: "Signed in as {name}.", si_show: "Show {count} accounts",
  },
};

export function title(ctx) { return ctx.t("si_title"); }

export async function render(ctx) {
  const { t, main, config, session, tenant } = ctx;
  if (!config.dev_login) {
    render_(html`<h1>${t("si_title")}</h1><p class="notice">${t("si_no_dev")}</p>`);
    return;
  }
  function render_(template) { draw(template, main); }
  render_(html`<h1>${t("si_title")}</h1>${loading()}`);

  let personas = null;
  try {
    personas = itemsOf(await api("/auth/personas", { auth: false, signal: ctx.signal }));
  } catch (error) {
    if (error.name === "AbortError") return;
    personas = null; // older gateway: one demo sign-in
  }
  let problem = null;

  async function signInAs(persona) {
    try {
      await signIn(persona);
      if (persona.tenant && (!tenant || persona.tenant !== tenant.id)) await ctx.selectTenant(persona.tenant);
      ctx.announce(t("si_done", { name: session.label }));
      const next = typeof ctx.query.next === "string" && ctx.query.next.startsWith("#/") ? ctx.query.next : "#/my";
      ctx.navigate(next);
    } catch (error) {
      problem = error;
      paint();
    }
  }

  const personaButton = (persona) => html`<li class="card persona">
      <p class="meta">${t(`si_kind_${persona.kind}`) || persona.kind}</p>
      <button type="button" class="primary" @click=${() => signInAs(persona)}>${t("si_as", { name: label(persona.label) })}</button>
    </li>`;

  function paint() {
    const here = (personas || []).filter((p) => tenant && p.tenant === tenant.id);
    const others = (personas || []).filter((p) => !tenant || p.tenant !== tenant.id);
    const demo = { sub: `demo-${tenant ? tenant.id : "user"}`, tenant: tenant ? tenant.id : "demo",
      roles: ["member", "org_admin"], label: null, actor_id: null };
    render_(html`<h1>${t("si_title")}</h1>
      ${session.signedIn ? html`<p class="notice ok">${t("si_signed_in", { name: session.label })}</p>` : nothing}
      ${problem ? html`<p class="notice error" role="alert">${errorText(problem)}</p>` : nothing}
      <p>${t("si_intro")}</p>
      ${personas === null
        ? html`<button type="button" class="primary" @click=${() => signInAs(demo)}>${t("si_demo")}</button>`
        : html`
          ${here.length ? html`<h2>${t("si_here", { name: tenant.name })}</h2>
            <ul class="cards grid-2">${here.map(personaButton)}</ul>` : nothing}
          ${others.length ? html`<h2>${t("si_others")}</h2><details ?open=${!here.length}><summary>${t("si_show", { count: others.length })}</summary>
            <ul class="cards grid-2">${others.map(personaButton)}</ul></details>` : nothing}`}`);
  }
  paint();
}

// #/operator (operator only): onboard a municipality in a few minutes: name, id, centre picked
// from the place search (never coordinates), neighbours (pre-selected by distance), then how
// its first admins get their role. POST /tenants {"id", "name", "center", "neighbours"}.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, ApiError, itemsOf } from "../core/api.js";
import { signIn } from "../core/account.js";
import { clearErrors, showErrors } from "../core/forms.js";
import { formatKm } from "../core/format.js";
import { mountPlaceField } from "../core/places.js";
import { errorBox, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: {
    op_title: "Kommune aufnehmen",
    op_intro: "Nehmen Sie eine Kommune in wenigen Minuten auf: Name, Kennung und Ortsmitte genügen. Farben, Logo und Texte pflegt die Kommune danach selbst.",
    op_not_allowed: "Diese Seite ist nur für den Plattformbetrieb (Rolle „operator“) zugänglich.",
    op_name: "Name der Kommune", op_name_hint: "So wie er überall angezeigt wird, z. B. „Bad Münstereifel“.",
    op_id: "Kennung", op_id_hint: "2–40 Zeichen: Kleinbuchstaben a–z, Ziffern und Bindestrich; wird aus dem Namen vorgeschlagen und kann später nicht geändert werden.",
    op_center: "Ortsmitte (z. B. Rathaus)", op_center_chosen: "Gewählte Ortsmitte: {name}",
    op_center_missing: "Bitte wählen Sie die Ortsmitte aus den Vorschlägen.",
    op_neighbours: "Nachbarkommunen",
    op_neighbours_hint: "Einträge mit der Sichtbarkeit „Nachbarkommunen“ sind auch dort zu sehen. Kommunen im Umkreis von {km} werden vorgeschlagen, sobald die Ortsmitte gewählt ist.",
    op_neighbours_none: "Es gibt noch keine anderen Kommunen.",
    op_neighbours_pick_center: "Wählen Sie zuerst die Ortsmitte; dann erscheinen die nahen Kommunen zuerst.",
    op_show_all: "Alle Kommunen zeigen ({n})", op_show_near: "Nur nahe Kommunen zeigen",
    op_away: "{km} entfernt",
    op_submit: "Kommune anlegen", op_busy: "Wird angelegt …",
    op_created: "Die Kommune {name} ist angelegt.",
    op_next: "Nächste Schritte",
    op_next_branding: "Erscheinungsbild und Texte von {name} einrichten",
    op_admins_title: "Die ersten Admins",
    op_admins_text: "Die Plattform vergibt keine Rollen selbst: Wer eine Kommune verwaltet, bestimmt der Identitätsanbieter (Anmeldedienst). Geben Sie den ersten Admins dort die Rolle „tenant_admin“ mit der Kommune „{id}“ (Claims: tenant = {id}, roles enthält tenant_admin). Nach der nächsten Anmeldung sehen sie „Verwaltung“ im Menü.",
    op_admins_dev: "Entwicklungsmodus: Sie können sich sofort als erste Verwaltung dieser Kommune anmelden (ein Entwicklungs-Token mit der Rolle tenant_admin).",
    op_admins_dev_button: "Als Verwaltung von {name} anmelden",
    op_another: "Weitere Kommune aufnehmen",
    op_existing: "Bereits aufgenommen", op_existing_caption: "Aufgenommene Kommunen ({n})",
    op_col_name: "Name", op_col_id: "Kennung", op_col_neighbours: "Nachbarn", op_col_admin: "Verwaltung",
    op_admin_link: "Verwalten", op_admin_link_of: "{name} verwalten",
    op_dev_admin_label: "Verwaltung {name}",
  },
  en: {
    op_title: "Onboard a municipality",
    op_intro: "Onboard a municipality in a few minutes: name, id and centre are enough. The municipality maintains colours, logo and texts itself afterwards.",
    op_not_allowed: "This page is only for the platform operator (role “operator”).",
    op_name: "Name of the municipality", op_name_hint: "As it is shown everywhere, e.g. “Bad Münstereifel”.",
    op_id: "Id", op_id_hint: "2–40 characters: lower-case a–z, digits and hyphen; suggested from the name and cannot be changed later.",
    op_center: "Centre (e.g. town hall)", op_center_chosen: "Chosen centre: {name}",
    op_center_missing: "Please choose the centre from the suggestions.",
    op_neighbours: "Neighbouring municipalities",
    op_neighbours_hint: "Entries visible to “neighbouring municipalities” are also shown there. Municipalities within {km} are suggested once the centre is chosen.",
    op_neighbours_none: "There are no other municipalities yet.",
    op_neighbours_pick_center: "Choose the centre first; then the nearby municipalities come first.",
    op_show_all: "Show all municipalities ({n})", op_show_near: "Show nearby municipalities only",
    op_away: "{km} away",
    op_submit: "Create municipality", op_busy: "Creating …",
    op_created: "The municipality {name} has been created.",
    op_next: "Next steps",
    op_next_branding: "Set up appearance and texts of {name}",
    op_admins_title: "The first admins",
    op_admins_text: "The platform does not hand out roles itself: the identity provider (sign-in service) decides who administers a municipality. Give the first admins the role “tenant_admin” for the municipality “{id}” there (claims: tenant = {id}, roles include tenant_admin). After their next sign-in they see “Administration” in the menu.",
    op_admins_dev: "Development mode: you can sign in right away as the first administrator of this municipality (a development token with the role tenant_admin).",
    op_admins_dev_button: "Sign in as administrator of {name}",
    op_another: "Onboard another municipality",
    op_existing: "Already onboarded", op_existing_caption: "Onboarded municipalities ({n})",
    op_col_name: "Name", op_col_id: "Id", op_col_neighbours: "Neighbours", op_col_admin: "Administration",
    op_admin_link: "Administer", op_admin_link_of: "Administer {name}",
    op_dev_admin_label: "Administration {name}",
  },
};

const NEAR_KM = 25;

export function title(ctx) { return ctx.t("op_title"); }

/** "Bad Münstereifel" → "bad-muenstereifel". */
function slugify(text) {
  let value = String(text || "").toLowerCase();
  for (const [from, to] of [["ä", "ae"], ["ö", "oe"], ["ü", "ue"], ["ß", "ss"]]) value = value.split(from).join(to);
  value = value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  return value.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/g, "");
}

function distanceKm(a, b) {
  const rad = (x) => (x * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 6371 * 2 * Math.asin(Math.sqrt(h));
}

export async function render(ctx) {
  const { t, session } = ctx;
  if (!session.signedIn) { draw(html`<h1>${t("op_title")}</h1>${signInNeeded()}`, ctx.main); return; }
  if (!session.hasRole("operator")) {
    draw(html`<h1>${t("op_title")}</h1><p class="notice warn" role="alert">${t("op_not_allowed")}</p>`, ctx.main);
    return;
  }

  const state = {
    tenants: [...(ctx.tenants || [])], tenantsError: null,
    name: "", id: "", idTouched: false, center: null, centerLabel: "",
    neighbours: new Set(), neighboursTouched: false, showAll: false,
    busy: false, created: null,
  };
  let placeField = null;
  const redraw = () => { if (ctx.isCurrent()) { draw(view(), ctx.main); mountPlace(); } };

  try {
    state.tenants = itemsOf(await api("/tenants", { auth: false, signal: ctx.signal }));
  } catch (error) {
    if (error.name === "AbortError") throw error;
    state.tenantsError = error;
  }
  state.tenants.sort((a, b) => String(a.name).localeCompare(String(b.name), "de"));

  function mountPlace() {
    const host = ctx.main.querySelector("#center-host");
    if (!host || host.dataset.mounted) return;
    host.dataset.mounted = "1";
    placeField = mountPlaceField(host, {
      label: t("op_center"), name: "center", tenants: state.tenants, required: true, value: state.centerLabel,
      onPick(place) {
        state.center = { lat: Number(place.lat), lon: Number(place.lon) };
        state.centerLabel = place.district && place.district !== place.name ? `${place.name} (${place.district})` : place.name;
        if (!state.neighboursTouched) {
          state.neighbours = new Set(state.tenants.filter((x) => x.center && distanceKm(state.center, x.center) <= NEAR_KM).map((x) => x.id));
        }
        redraw();
      },
    });
  }

  function nearby() {
    const list = state.tenants.map((x) => ({ ...x, km: state.center && x.center ? distanceKm(state.center, x.center) : null }));
    if (state.center) list.sort((a, b) => (a.km ?? 1e9) - (b.km ?? 1e9));
    if (state.center && !state.showAll) return list.filter((x) => x.km != null && x.km <= NEAR_KM || state.neighbours.has(x.id));
    return list;
  }

  async function submit(event) {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    const body = { id: state.id.trim(), name: state.name.trim(), neighbours: [...state.neighbours] };
    if (!state.center) {
      showErrors(form, new ApiError({ status: 422, code: "validation_error",
        details: [{ field: "center", message: t("op_center_missing"), type: "missing" },
          ...(body.name ? [] : [{ field: "name", message: "", type: "missing" }])] }));
      return;
    }
    body.center = state.center;
    state.busy = true; redraw();
    try {
      state.created = await api("/tenants", { method: "POST", body });
      state.busy = false;
      try { state.tenants = itemsOf(await api("/tenants", { auth: false })); } catch { state.tenants.push(state.created); }
      state.tenants.sort((a, b) => String(a.name).localeCompare(String(b.name), "de"));
      ctx.announce(t("op_created", { name: state.created.name }));
      redraw();
      ctx.main.querySelector("#created-heading")?.focus();
    } catch (error) {
      state.busy = false; redraw();
      if (error.name === "AbortError") return;
      showErrors(form, error);
    }
  }

  async function signInAsAdmin() {
    const created = state.created;
    await signIn({ sub: `admin-${created.id}`, tenant: created.id, roles: ["member", "tenant_admin"],
      label: { de: `Verwaltung ${created.name}`, en: `Administration ${created.name}` } });
    ctx.navigate(`#/admin/branding`);
  }

  function again() {
    Object.assign(state, { name: "", id: "", idTouched: false, center: null, centerLabel: "", neighbours: new Set(),
      neighboursTouched: false, showAll: false, created: null });
    api("/tenants", { auth: false }).then((answer) => { state.tenants = itemsOf(answer); redraw(); }).catch(() => {});
    redraw();
    ctx.main.querySelector("#tenant-name")?.focus();
  }

  function createdView() {
    const created = state.created;
    return html`<section class="notice ok onboard-done" aria-labelledby="created-heading">
        <h2 id="created-heading" tabindex="-1">${t("op_created", { name: created.name })}</h2>
        <h3>${t("op_next")}</h3>
        <ol>
          <li><h4>${t("op_admins_title")}</h4>
            <p>${t("op_admins_text", { id: created.id })}</p>
            ${ctx.config && ctx.config.dev_login ? html`<p>${t("op_admins_dev")}</p>
              <p><button type="button" @click=${signInAsAdmin}>${t("op_admins_dev_button", { name: created.name })}</button></p>` : nothing}</li>
          <li><a href="#/admin/branding?tenant=${encodeURIComponent(created.id)}">${t("op_next_branding", { name: created.name })}</a></li>
        </ol>
        <p><button type="button" @click=${again}>${t("op_another")}</button></p>
      </section>`;
  }

  function neighboursView() {
    if (!state.tenants.length) return html`<p class="muted">${t("op_neighbours_none")}</p>`;
    const list = nearby();
    return html`
      ${state.center ? nothing : html`<p class="hint">${t("op_neighbours_pick_center")}</p>`}
      <div class="checks">${list.map((x) => html`<label class="check" for="nb-${x.id}">
        <input type="checkbox" id="nb-${x.id}" name="neighbours" value=${x.id} .checked=${state.neighbours.has(x.id)}
          @change=${(event) => {
            state.neighboursTouched = true;
            if (event.target.checked) state.neighbours.add(x.id); else state.neighbours.delete(x.id);
          }}>
        <span>${x.name}${x.km != null ? html` <span class="muted">(${t("op_away", { km: formatKm(x.km) })})</span>` : nothing}</span></label>`)}</div>
      ${state.center ? html`<p><button type="button" class="link-button" @click=${() => { state.showAll = !state.showAll; redraw(); }}>
        ${state.showAll ? t("op_show_near") : t("op_show_all", { n: state.tenants.length })}</button></p>` : nothing}`;
  }

  function formView() {
    return html`<form novalidate @submit=${submit} class="onboard-form">
      <div class="field">
        <label for="tenant-name">${t("op_name")}</label>
        <span class="hint" id="tenant-name-hint">${t("op_name_hint")}</span>
        <input type="text" id="tenant-name" name="name" required maxlength="140" autocomplete="off"
          aria-describedby="tenant-name-hint" .value=${state.name}
          @input=${(event) => { state.name = event.target.value; if (!state.idTouched) state.id = slugify(state.name); redraw(); }}>
      </div>
      <div class="field">
        <label for="tenant-id">${t("op_id")}</label>
        <span class="hint" id="tenant-id-hint">${t("op_id_hint")}</span>
        <input type="text" id="tenant-id" name="id" required maxlength="40" autocomplete="off" spellcheck="false"
          pattern="[a-z0-9-]{2,40}" aria-describedby="tenant-id-hint" .value=${state.id}
          @input=${(event) => { state.id = event.target.value; state.idTouched = true; }}>
      </div>
      <div id="center-host" data-field="center"></div>
      ${state.center ? html`<p class="chosen-place" aria-live="polite">${t("op_center_chosen", { name: state.centerLabel })}</p>` : nothing}
      <fieldset data-field="neighbours">
        <legend>${t("op_neighbours")}</legend>
        <p class="hint">${t("op_neighbours_hint", { km: formatKm(NEAR_KM) })}</p>
        ${neighboursView()}
      </fieldset>
      <div class="actions"><button type="submit" class="primary" ?disabled=${state.busy}>${state.busy ? t("op_busy") : t("op_submit")}</button></div>
    </form>`;
  }

  function existingView() {
    if (state.tenantsError) return errorBox(state.tenantsError);
    if (!state.tenants.length) return nothing;
    return html`<h2 id="existing-heading">${t("op_existing")}</h2>
      <div class="table-wrap" role="region" aria-labelledby="existing-heading" tabindex="0">
        <table class="data-table">
          <caption>${t("op_existing_caption", { n: state.tenants.length })}</caption>
          <thead><tr><th scope="col">${t("op_col_name")}</th><th scope="col">${t("op_col_id")}</th>
            <th scope="col" class="num">${t("op_col_neighbours")}</th><th scope="col">${t("op_col_admin")}</th></tr></thead>
          <tbody>${state.tenants.map((x) => html`<tr><th scope="row">${x.name}</th><td class="mono">${x.id}</td>
            <td class="num">${(x.neighbours || []).length}</td>
            <td><a href="#/admin?tenant=${encodeURIComponent(x.id)}" aria-label=${t("op_admin_link_of", { name: x.name })}>${t("op_admin_link")}</a></td></tr>`)}</tbody>
        </table>
      </div>`;
  }

  function view() {
    return html`<h1>${t("op_title")}</h1>
      <p>${t("op_intro")}</p>
      ${state.created ? createdView() : formView()}
      ${existingView()}`;
  }

  redraw();
}

// #/post (new offer or need) and #/offers/:id/edit, #/needs/:id/edit — the full form the API
// accepts. Limits are the API's (services/profiles/domain/requests.py); errors appear next to the
// fields (forms.js), whether the browser-side check or the API found them.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { repeat } from "/static/vendor/lit-html/directives/repeat.js";
import { api } from "../core/api.js";
import { clearErrors, showErrors } from "../core/forms.js";
import { WEEKDAYS, languageName, toLocalInput, weekdayName } from "../core/format.js";
import { label, lang } from "../core/i18n.js";
import { isOwner, ownActors, plural } from "../core/items.js";
import { coarsePoint } from "../core/geo.js";
import { L, createMap, pointMarker, radiusCircle } from "../core/map.js";
import { mountPlaceField } from "../core/places.js";
import { errorBox, loading, signInNeeded } from "../core/ui.js";

// The API's limits (ItemCreate).
export const LIMITS = { title: [3, 140], description: 5000, categories: [1, 5], skills: 20, skill: 40,
  radius: [1, 200], capacity: [1, 10000], dates: 50, weekly: 50, place: 140, name: [2, 140], email: 254 };
export const LANGUAGE_CODES = ["de", "en", "tr", "ar", "uk", "ru", "pl", "fr", "es", "it", "fa", "ku", "ro", "el", "nl", "dgs"];

export const TEXTS = {
  de: {
    p_title_new: "Angebot oder Gesuch eintragen", p_title_edit: "Eintrag bearbeiten", p_kind: "Was möchten Sie eintragen?",
    p_kind_offer: "Ein Angebot: Ich/wir können etwas geben", p_kind_need: "Ein Gesuch: Ich/wir suchen Unterstützung",
    p_actor: "Eintragen als", p_new_actor: "Zuerst ein Profil anlegen", p_new_actor_intro: "Für Ihren ersten Eintrag legen wir ein Profil an.",
    p_actor_type: "Profilart", p_actor_name: "Name (Person oder Organisation)", p_actor_email: "E-Mail-Adresse",
    p_actor_email_hint: "Wird erst nach beidseitiger Zustimmung weitergegeben.",
    p_basics: "Worum geht es?", p_title: "Titel", p_title_hint: "3 bis 140 Zeichen.", p_description: "Beschreibung",
    p_description_hint: "Höchstens 5000 Zeichen.", p_categories: "Handlungsfelder (1 bis 5)", p_skills: "Fähigkeiten",
    p_skills_hint: "Durch Komma getrennt, höchstens 20, z. B. kochen, fahren, englisch.", p_requirements: "Voraussetzungen",
    p_engagement: "Art des Engagements", p_when: "Wann?", p_dates: "Feste Termine", p_dates_hint: "Der letzte Termin ist zugleich das Ende des Eintrags.",
    p_start: "Beginn", p_end: "Ende", p_add_date: "Termin hinzufügen", p_remove: "Entfernen", p_weekly: "Regelmäßig jede Woche",
    p_day: "Wochentag", p_from: "Von", p_to: "Bis", p_add_weekly: "Wochentag hinzufügen", p_remove_date: "Termin {n} entfernen",
    p_remove_weekly: "Wochentag {n} entfernen", p_date_n: "Termin {n}", p_weekly_n: "Wochentag {n}",
    p_where: "Wo?", p_place: "Ort", p_map: "Karte: Klicken setzt den Ort", p_map_hint: "Sie können den Ort auch durch Klicken in die Karte setzen.",
    p_location_set: "Gewählter Ort: {name}", p_location_map: "auf der Karte gesetzt", p_radius: "Umkreis in km (1 bis 200)",
    p_remote: "Auch aus der Ferne möglich (online, telefonisch)", p_more: "Weitere Angaben", p_capacity: "Anzahl Plätze bzw. Personen",
    p_languages: "Sprachen", p_accessible: "Barrierefrei zugänglich", p_visibility: "Wer darf den Eintrag sehen?",
    p_publish: "Veröffentlichen", p_save: "Änderungen speichern", p_saved: "Gespeichert.", p_published: "Veröffentlicht.",
    p_not_owner: "Nur die Eigentümer dürfen diesen Eintrag bearbeiten.", p_location_missing: "Bitte einen Ort wählen.",
    p_profile_link: "Weiteres Profil anlegen",
    p_location_coarse: "Ungefährer Ort: Ihr Wohnort, auf etwa 1 km gerundet. Wählen Sie besser einen Treffpunkt oder klicken Sie in die Karte.",
    p_privacy: "Bei Privatpersonen sehen andere nur einen ungefähren Ort (auf etwa 1 km) und die Entfernung in ganzen Kilometern. Genau sehen ihn nur Sie und, wenn beide zugestimmt haben, Ihr Kontakt.",
  },
  en: {
    p_title_new: "Post an offer or a need", p_title_edit: "Edit entry", p_kind: "What would you like to post?",
    p_kind_offer: "An offer: I/we can give something", p_kind_need: "A need: I/we are looking for support",
    p_actor: "Post as", p_new_actor: "Create a profile first", p_new_actor_intro: "For your first entry we create a profile.",
    p_actor_type: "Profile type", p_actor_name: "Name (person or organisation)", p_actor_email: "E-mail address",
    p_actor_email_hint: "Only shared once both sides agree.",
    p_basics: "What is it about?", p_title: "Title", p_title_hint: "3 to 140 characters.", p_description: "Description",
    p_description_hint: "At most 5000 characters.", p_categories: "Fields of engagement (1 to 5)", p_skills: "Skills",
    p_skills_hint: "Separated by commas, at most 20, e.g. cooking, driving, english.", p_requirements: "Requirements",
    p_engagement: "Kind of engagement", p_when: "When?", p_dates: "Fixed dates", p_dates_hint: "The last date is also when the entry ends.",
    p_start: "Start", p_end: "End", p_add_date: "Add a date", p_remove: "Remove", p_weekly: "Regularly every week",
    p_day: "Weekday", p_from: "From", p_to: "To", p_add_weekly: "Add a weekday", p_remove_date: "Remove date {n}",
    p_remove_weekly: "Remove weekday {n}", p_date_n: "Date {n}", p_weekly_n: "Weekday {n}",
    p_where: "Where?", p_place: "Place", p_map: "Map: a click sets the place", p_map_hint: "You can also set the place by clicking the map.",
    p_location_set: "Chosen place: {name}", p_location_map: "set on the map", p_radius: "Radius in km (1 to 200)",
    p_remote: "Also possible remotely (online, by phone)", p_more: "More details", p_capacity: "Number of places or people",
    p_languages: "Languages", p_accessible: "Accessible (step-free)", p_visibility: "Who may see the entry?",
    p_publish: "Publish", p_save: "Save changes", p_saved: "Saved.", p_published: "Published.",
    p_not_owner: "Only its owners may edit this entry.", p_location_missing: "Please choose a place.",
    p_profile_link: "Create another profile",
    p_location_coarse: "Approximate place: your home, rounded to about 1 km. Better choose a meeting place or click the map.",
    p_privacy: "For private persons, others see only an approximate place (to about 1 km) and the distance in whole kilometres. Only you and, once both agreed, your contact see it exactly.",
  },
};

let rowKey = 0;
const newKey = () => ++rowKey;

export function title(ctx) { return ctx.t(ctx.params.id ? "p_title_edit" : "p_title_new"); }

export async function render(ctx) {
  const { t, main, vocab, session, params } = ctx;
  const editing = Boolean(params.id);
  const editKind = ctx.path.startsWith("#/offers") ? "offer" : "need";
  const heading = t(editing ? "p_title_edit" : "p_title_new");
  if (!session.signedIn) {
    draw(html`<h1>${heading}</h1>${signInNeeded()}`, main);
    return;
  }
  draw(html`<h1>${heading}</h1>${loading()}`, main);

  let item = null;
  let actors = [];
  try {
    if (editing) {
      item = await api(`/${plural(editKind)}/${encodeURIComponent(params.id)}`, { signal: ctx.signal });
    }
    actors = await ownActors({ signal: ctx.signal });
  } catch (error) {
    if (error.name === "AbortError") return;
    draw(html`<h1>${heading}</h1>${errorBox(error)}`, main);
    return;
  }
  if (editing && !isOwner(session, null, item) && !actors.some((a) => a.id === item.actor_id)) {
    draw(html`<h1>${heading}</h1><p class="notice error">${t("p_not_owner")}</p>`, main);
    return;
  }

  const preferredActor = actors.find((a) => a.id === session.actorId) || actors[0] || null;
  const start = item || {};
  const isPerson = (actor) => Boolean(actor) && actor.type === "person";
  // Until a place is chosen a new entry sits at its profile's place; a person's home only as its
  // coarse point (the API coarsens it for others anyway, but the entry itself should not hold it).
  const defaultLocation = (actor) => (!actor ? ctx.center : isPerson(actor) ? coarsePoint(actor.location) : actor.location);
  const state = {
    kind: editing ? editKind : (ctx.query.kind === "offer" ? "offer" : "need"),
    dates: (start.schedule?.dates || []).map((d) => ({ key: newKey(), start: toLocalInput(d.start), end: toLocalInput(d.end) })),
    weekly: (start.schedule?.weekly || []).map((w) => ({ key: newKey(), ...w })),
    location: start.location || defaultLocation(preferredActor),
    placeChosen: editing,
    person: editing ? start.actor_type === "person" : (preferredActor ? isPerson(preferredActor) : vocab.list("actor-types")[0]?.id === "person"),
    locationNote: !editing && isPerson(preferredActor) ? t("p_location_coarse") : "",
    placeName: start.place_name ?? preferredActor?.place_name ?? (ctx.tenant ? ctx.tenant.name : ""),
    radius: start.radius_km ?? 10,
    busy: false,
  };

  // ---- form parts -------------------------------------------------------------------------------
  const checks = (name, entries, chosen, { three = false } = {}) => html`<div class=${three ? "checks three" : "checks"}>
    ${entries.map((entry) => html`<label class="check"><input type="checkbox" name=${name} value=${entry.id}
      .checked=${chosen.includes(entry.id)}> <span>${entry.text}</span></label>`)}</div>`;
  const vocabEntries = (name) => vocab.list(name).map((e) => ({ id: e.id, text: label(e.label) }));

  function actorPart() {
    if (editing) return nothing;
    if (actors.length) {
      return html`<div class="field"><label for="p-actor">${t("p_actor")}</label>
        <select id="p-actor" name="actor_id" @change=${onActor}>${actors.map((a) => html`<option value=${a.id}
          ?selected=${preferredActor && a.id === preferredActor.id}>${a.name} (${vocab.label("actor-types", a.type)})</option>`)}</select>
        <a href="#/actors/new">${t("p_profile_link")}</a></div>`;
    }
    return html`<fieldset data-field="actor"><legend>${t("p_new_actor")}</legend>
      <p class="meta">${t("p_new_actor_intro")}</p>
      <div class="field"><label for="p-actor-type">${t("p_actor_type")}</label>
        <select id="p-actor-type" name="actor.type" @change=${(e) => { state.person = e.target.value === "person"; redraw(); }}>${vocab.list("actor-types").map((e) => html`<option value=${e.id}>${label(e.label)}</option>`)}</select></div>
      <div class="field"><label for="p-actor-name">${t("p_actor_name")}</label>
        <input id="p-actor-name" name="actor.name" type="text" required minlength=${LIMITS.name[0]} maxlength=${LIMITS.name[1]} autocomplete="name"></div>
      <div class="field"><label for="p-actor-email">${t("p_actor_email")}</label>
        <span class="hint" id="p-actor-email-hint">${t("p_actor_email_hint")}</span>
        <input id="p-actor-email" name="actor.email" type="email" required maxlength=${LIMITS.email} autocomplete="email"
          aria-describedby="p-actor-email-hint"></div>
    </fieldset>`;
  }

  function dateRows() {
    return html`<fieldset data-field="schedule.dates"><legend>${t("p_dates")}</legend>
      <p class="hint">${t("p_dates_hint")}</p>
      ${repeat(state.dates, (row) => row.key, (row, index) => html`<div class="window-row" role="group"
          aria-label=${t("p_date_n", { n: index + 1 })}>
        <div class="field"><label for=${`p-date-start-${row.key}`}>${t("p_start")}</label>
          <input id=${`p-date-start-${row.key}`} type="datetime-local" name=${`schedule.dates.${index}.start`} required
            .value=${row.start} @input=${(e) => { row.start = e.target.value; }}></div>
        <div class="field"><label for=${`p-date-end-${row.key}`}>${t("p_end")}</label>
          <input id=${`p-date-end-${row.key}`} type="datetime-local" name=${`schedule.dates.${index}.end`} required
            .value=${row.end} @input=${(e) => { row.end = e.target.value; }}></div>
        <div class="field"><button type="button" @click=${() => removeRow("dates", row)}
          aria-label=${t("p_remove_date", { n: index + 1 })}>${t("p_remove")}</button></div>
      </div>`)}
      ${state.dates.length < LIMITS.dates ? html`<button type="button" @click=${() => addRow("dates")}>${t("p_add_date")}</button>` : nothing}
    </fieldset>`;
  }

  function weeklyRows() {
    return html`<fieldset data-field="schedule.weekly"><legend>${t("p_weekly")}</legend>
      ${repeat(state.weekly, (row) => row.key, (row, index) => html`<div class="window-row weekly" role="group"
          aria-label=${t("p_weekly_n", { n: index + 1 })}>
        <div class="field"><label for=${`p-week-day-${row.key}`}>${t("p_day")}</label>
          <select id=${`p-week-day-${row.key}`} name=${`schedule.weekly.${index}.day`} @change=${(e) => { row.day = e.target.value; }}>
            ${WEEKDAYS.map((day) => html`<option value=${day} ?selected=${row.day === day}>${weekdayName(day)}</option>`)}</select></div>
        <div class="field"><label for=${`p-week-start-${row.key}`}>${t("p_from")}</label>
          <input id=${`p-week-start-${row.key}`} type="time" name=${`schedule.weekly.${index}.start`} required
            .value=${row.start} @input=${(e) => { row.start = e.target.value; }}></div>
        <div class="field"><label for=${`p-week-end-${row.key}`}>${t("p_to")}</label>
          <input id=${`p-week-end-${row.key}`} type="time" name=${`schedule.weekly.${index}.end`} required
            .value=${row.end} @input=${(e) => { row.end = e.target.value; }}></div>
        <div class="field"><button type="button" @click=${() => removeRow("weekly", row)}
          aria-label=${t("p_remove_weekly", { n: index + 1 })}>${t("p_remove")}</button></div>
      </div>`)}
      ${state.weekly.length < LIMITS.weekly ? html`<button type="button" @click=${() => addRow("weekly")}>${t("p_add_weekly")}</button>` : nothing}
    </fieldset>`;
  }

  function addRow(which) {
    const row = which === "dates" ? { key: newKey(), start: "", end: "" } : { key: newKey(), day: "mon", start: "16:00", end: "18:00" };
    state[which].push(row);
    redraw();
    main.querySelector(which === "dates" ? `#p-date-start-${row.key}` : `#p-week-day-${row.key}`)?.focus();
  }

  function removeRow(which, row) {
    state[which] = state[which].filter((r) => r !== row);
    redraw();
    main.querySelector(`[data-field="schedule.${which}"] legend`)?.scrollIntoView({ block: "nearest" });
    main.querySelector(`[data-field="schedule.${which}"] button:last-of-type`)?.focus();
  }

  function view() {
    const languages = start.languages || ["de"];
    return html`<h1>${heading}</h1>
      <form class="post-form" novalidate @submit=${onSubmit}>
        ${editing ? nothing : html`<fieldset data-field="kind"><legend>${t("p_kind")}</legend>
          <label class="check"><input type="radio" name="kind" value="offer" .checked=${state.kind === "offer"}> ${t("p_kind_offer")}</label>
          <label class="check"><input type="radio" name="kind" value="need" .checked=${state.kind === "need"}> ${t("p_kind_need")}</label>
        </fieldset>`}
        ${actorPart()}
        <h2>${t("p_basics")}</h2>
        <div class="field"><label for="p-title">${t("p_title")}</label>
          <span class="hint" id="p-title-hint">${t("p_title_hint")}</span>
          <input id="p-title" name="title" type="text" required minlength=${LIMITS.title[0]} maxlength=${LIMITS.title[1]}
            aria-describedby="p-title-hint" .value=${start.title || ""}></div>
        <div class="field"><label for="p-description">${t("p_description")}</label>
          <span class="hint" id="p-description-hint">${t("p_description_hint")}</span>
          <textarea id="p-description" name="description" rows="5" maxlength=${LIMITS.description}
            aria-describedby="p-description-hint" .value=${start.description || ""}></textarea></div>
        <fieldset data-field="categories"><legend>${t("p_categories")}</legend>
          ${checks("categories", vocabEntries("categories"), start.categories || [], { three: true })}</fieldset>
        <div class="field"><label for="p-skills">${t("p_skills")}</label>
          <span class="hint" id="p-skills-hint">${t("p_skills_hint")}</span>
          <input id="p-skills" name="skills" type="text" aria-describedby="p-skills-hint" .value=${(start.skills || []).join(", ")}></div>
        <fieldset data-field="requirements"><legend>${t("p_requirements")}</legend>
          ${checks("requirements", vocabEntries("requirements"), start.requirements || [])}</fieldset>
        <div class="field"><label for="p-engagement">${t("p_engagement")}</label>
          <select id="p-engagement" name="engagement">${vocab.list("engagement-types").map((e) => html`<option value=${e.id}
            ?selected=${(start.engagement || "spontaneous") === e.id}>${label(e.label)}</option>`)}</select></div>

        <h2>${t("p_when")}</h2>
        ${dateRows()}
        ${weeklyRows()}

        <h2>${t("p_where")}</h2>
        <div id="p-place-host" data-field="location"></div>
        <p class="meta" id="p-location-note">${state.locationNote || t("p_location_set", { name: state.placeName || t("p_location_map") })}</p>
        <p class="hint" id="p-map-hint">${t("p_map_hint")}</p>
        ${state.person ? html`<p class="hint" id="p-privacy-hint">${t("p_privacy")}</p>` : nothing}
        <div class="item-map" id="p-map"></div>
        <div class="row">
          <div class="field"><label for="p-radius">${t("p_radius")}</label>
            <input id="p-radius" name="radius_km" type="number" inputmode="decimal" min=${LIMITS.radius[0]} max=${LIMITS.radius[1]}
              step="any" required .value=${String(state.radius)} @input=${onRadius}></div>
          <div class="field"><label class="check"><input type="checkbox" name="remote" .checked=${Boolean(start.remote)}> ${t("p_remote")}</label></div>
        </div>

        <h2>${t("p_more")}</h2>
        <div class="row">
          <div class="field"><label for="p-capacity">${t("p_capacity")}</label>
            <input id="p-capacity" name="capacity" type="number" inputmode="numeric" min=${LIMITS.capacity[0]} max=${LIMITS.capacity[1]}
              step="1" required .value=${String(start.capacity ?? 1)}></div>
          <div class="field"><label for="p-visibility">${t("p_visibility")}</label>
            <select id="p-visibility" name="visibility">${vocab.list("visibilities").map((e) => html`<option value=${e.id}
              ?selected=${(start.visibility || "region") === e.id}>${label(e.label)}</option>`)}</select></div>
        </div>
        <fieldset data-field="languages"><legend>${t("p_languages")}</legend>
          ${checks("languages", LANGUAGE_CODES.map((code) => ({ id: code, text: languageName(code) })), languages, { three: true })}</fieldset>
        <div class="field"><label class="check"><input type="checkbox" name="accessible" .checked=${Boolean(start.accessible)}> ${t("p_accessible")}</label></div>
        <div class="actions">
          <button type="submit" class="primary" ?disabled=${state.busy}>${t(editing ? "p_save" : "p_publish")}</button>
          ${editing ? html`<a href=${`#/${plural(editKind)}/${encodeURIComponent(item.id)}`}>${t("cancel")}</a>` : nothing}
        </div>
      </form>`;
  }

  function redraw() { if (ctx.isCurrent()) draw(view(), main); }
  redraw();

  // ---- place and map ------------------------------------------------------------------------------
  const note = (text) => { state.locationNote = text; redraw(); };
  const placeField = mountPlaceField(main.querySelector("#p-place-host"), {
    label: t("p_place"), name: "place_name", value: state.placeName, tenants: ctx.tenants,
    onPick(option) {
      state.location = { lat: option.lat, lon: option.lon };
      state.placeName = option.name;
      state.placeChosen = true;
      note(t("p_location_set", { name: option.name }));
      drawLocation(true);
    },
  });
  const map = createMap(main.querySelector("#p-map"), { center: state.location, zoom: 11,
    tileUrl: ctx.config.map_tile_url, label: t("p_map") });
  ctx.onCleanup(() => map.remove());
  const layer = L.layerGroup().addTo(map);
  function drawLocation(fit) {
    layer.clearLayers();
    const circle = radiusCircle(state.location, Math.max(1, Number(state.radius) || 1)).addTo(layer);
    pointMarker(state.location, state.kind).addTo(layer);
    if (fit) map.fitBounds(circle.getBounds(), { padding: [10, 10] });
  }
  drawLocation(true);
  map.on("click", (event) => {
    state.location = { lat: Number(event.latlng.lat.toFixed(5)), lon: Number(event.latlng.lng.toFixed(5)) };
    state.placeChosen = true;
    note(t("p_location_set", { name: `${state.placeName ? `${state.placeName}, ` : ""}${t("p_location_map")}` }));
    drawLocation(false);
  });
  function onRadius(event) { state.radius = event.target.value; drawLocation(false); }
  function onActor(event) {
    const actor = actors.find((a) => a.id === event.target.value);
    state.person = isPerson(actor);
    if (!state.placeChosen) {
      state.location = defaultLocation(actor);
      state.placeName = actor?.place_name ?? state.placeName;
      placeField.setValue(state.placeName || "");
      state.locationNote = state.person ? t("p_location_coarse") : "";
      drawLocation(true);
    }
    redraw();
  }

  // ---- submit -------------------------------------------------------------------------------------
  function collect(form) {
    const data = new FormData(form);
    const number = (name) => { const raw = String(data.get(name) ?? "").trim().replace(",", "."); return raw === "" ? NaN : Number(raw); };
    const skills = String(data.get("skills") || "").split(",").map((s) => s.trim()).filter(Boolean);
    return {
      title: String(data.get("title") || "").trim(),
      description: String(data.get("description") || "").trim(),
      categories: data.getAll("categories").map(String),
      skills,
      requirements: data.getAll("requirements").map(String),
      engagement: String(data.get("engagement") || ""),
      location: { lat: Number(state.location.lat), lon: Number(state.location.lon) },
      place_name: String(data.get("place_name") || "").trim() || null,
      radius_km: number("radius_km"),
      remote: data.get("remote") === "on",
      schedule: {
        dates: state.dates.map((row) => ({ start: row.start, end: row.end })),
        weekly: state.weekly.map((row) => ({ day: row.day, start: row.start, end: row.end })),
      },
      capacity: number("capacity"),
      visibility: String(data.get("visibility") || "tenant"),
      languages: data.getAll("languages").map(String),
      accessible: data.get("accessible") === "on",
    };
  }

  /** The same checks as the API, so most mistakes are shown before sending. */
  function check(body, form) {
    const problems = [];
    const add = (field, type, message) => problems.push({ field, type, message });
    if (body.title.length < LIMITS.title[0]) add("title", body.title ? "string_too_short" : "missing", `at least ${LIMITS.title[0]} characters`);
    if (body.title.length > LIMITS.title[1]) add("title", "string_too_long", `at most ${LIMITS.title[1]} characters`);
    if (body.description.length > LIMITS.description) add("description", "string_too_long", `at most ${LIMITS.description} characters`);
    if (body.categories.length < LIMITS.categories[0]) add("categories", "too_short", `at least ${LIMITS.categories[0]}`);
    if (body.categories.length > LIMITS.categories[1]) add("categories", "too_long", `at most ${LIMITS.categories[1]}`);
    if (body.skills.length > LIMITS.skills) add("skills", "too_long", `at most ${LIMITS.skills}`);
    if (body.skills.some((s) => s.length > LIMITS.skill)) add("skills", "string_too_long", `at most ${LIMITS.skill} characters`);
    if (!Number.isFinite(body.radius_km)) add("radius_km", "float_type", "number");
    else if (body.radius_km < LIMITS.radius[0]) add("radius_km", "greater_than_equal", `${LIMITS.radius[0]}`);
    else if (body.radius_km > LIMITS.radius[1]) add("radius_km", "less_than_equal", `${LIMITS.radius[1]}`);
    if (!Number.isInteger(body.capacity)) add("capacity", "int_type", "number");
    else if (body.capacity < LIMITS.capacity[0]) add("capacity", "greater_than_equal", `${LIMITS.capacity[0]}`);
    else if (body.capacity > LIMITS.capacity[1]) add("capacity", "less_than_equal", `${LIMITS.capacity[1]}`);
    body.schedule.dates.forEach((row, index) => {
      if (!row.start) add(`schedule.dates.${index}.start`, "missing", "");
      if (!row.end) add(`schedule.dates.${index}.end`, "missing", "");
      else if (row.start && row.end <= row.start) add(`schedule.dates.${index}.end`, "value_error", "must be after start");
    });
    body.schedule.weekly.forEach((row, index) => {
      if (!row.start) add(`schedule.weekly.${index}.start`, "missing", "");
      if (!row.end) add(`schedule.weekly.${index}.end`, "missing", "");
      else if (row.start && row.end <= row.start) add(`schedule.weekly.${index}.end`, "value_error", "must be after start");
    });
    if (body.place_name && body.place_name.length > LIMITS.place) add("place_name", "string_too_long", `at most ${LIMITS.place} characters`);
    if (!editing && !actors.length) {
      const name = String(form.elements["actor.name"].value || "").trim();
      const email = String(form.elements["actor.email"].value || "").trim();
      if (name.length < LIMITS.name[0]) add("actor.name", name ? "string_too_short" : "missing", `at least ${LIMITS.name[0]} characters`);
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) add("actor.email", email ? "value_error" : "missing", "is not a valid e-mail address");
    }
    return problems;
  }

  async function onSubmit(event) {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    const body = collect(form);
    const problems = check(body, form);
    if (problems.length) {
      showErrors(form, { code: "validation_error", status: 422, details: problems });
      return;
    }
    state.busy = true;
    redraw();
    try {
      let saved;
      if (editing) {
        saved = await api(`/${plural(editKind)}/${encodeURIComponent(item.id)}`, { method: "PATCH",
          body: { ...body, version: item.version } });
        ctx.announce(t("p_saved"));
      } else {
        let actorId = form.elements.actor_id ? form.elements.actor_id.value : null;
        if (!actorId) {
          try {
            const actor = await api("/actors", { method: "POST", body: {
              type: form.elements["actor.type"].value, name: form.elements["actor.name"].value.trim(),
              email: form.elements["actor.email"].value.trim(), location: body.location,
              place_name: body.place_name, locale: lang() } });
            actorId = actor.id;
            actors = [actor];
          } catch (error) {
            error.details = (error.details || []).map((d) => ({ ...d, field: `actor.${d.field}` }));
            throw error;
          }
        }
        const kind = new FormData(form).get("kind") === "offer" ? "offer" : "need";
        saved = await api(`/${plural(kind)}`, { method: "POST", body: { actor_id: actorId, ...body } });
        ctx.announce(t("p_published"));
      }
      ctx.navigate(`#/${plural(saved.kind)}/${encodeURIComponent(saved.id)}`);
    } catch (error) {
      state.busy = false;
      redraw();
      showErrors(form, error);
    }
  }
  void placeField;
}

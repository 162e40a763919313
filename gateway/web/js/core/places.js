// A place field with suggestions (combobox): GET /api/v1/places?q=; if that is not available,
// the municipalities (with their centres) are suggested. People never type coordinates.
import { html, render, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, itemsOf } from "./api.js";
import { registerTexts, t } from "./i18n.js";

registerTexts({
  de: { place_no_match: "Kein Ort gefunden.", place_suggestions: "{count} Vorschläge. Mit Pfeiltasten auswählen.",
    place_hint: "Ort, Stadtteil oder Postleitzahl eingeben und einen Vorschlag wählen." },
  en: { place_no_match: "No place found.", place_suggestions: "{count} suggestions. Use the arrow keys to choose.",
    place_hint: "Type a place, district or postcode and pick a suggestion." },
});

let counter = 0;

/**
 * Renders the field into `host`. `onPick({name, lat, lon, district, postcode})` is called when a
 * suggestion is chosen. Returns {setValue(text), input}.
 */
export function mountPlaceField(host, { label, name = "place", value = "", tenants = [], onPick, required = false,
  hint = true }) {
  const id = `place-${++counter}`;
  const state = { text: value, options: [], open: false, active: -1, message: "" };
  let timer = null;
  let sequence = 0;

  async function lookup(text) {
    const mine = ++sequence;
    let options = [];
    try {
      options = itemsOf(await api("/places", { query: { q: text }, auth: false }));
    } catch {
      const lower = text.toLowerCase();
      options = tenants.filter((tenant) => tenant.center && String(tenant.name).toLowerCase().includes(lower))
        .map((tenant) => ({ name: tenant.name, lat: tenant.center.lat, lon: tenant.center.lon }));
    }
    if (mine !== sequence) return;
    state.options = options.slice(0, 10);
    state.open = true;
    state.active = -1;
    state.message = options.length ? t("place_suggestions", { count: state.options.length }) : t("place_no_match");
    draw();
  }

  function onInput(event) {
    state.text = event.target.value;
    clearTimeout(timer);
    if (state.text.trim().length < 2) { state.open = false; state.options = []; draw(); return; }
    timer = setTimeout(() => lookup(state.text.trim()), 250);
  }

  function pick(option) {
    state.text = option.district && option.district !== option.name ? `${option.name} (${option.district})` : option.name;
    state.open = false;
    state.options = [];
    state.message = "";
    draw();
    if (onPick) onPick(option);
  }

  function onKey(event) {
    if (!state.open || !state.options.length) {
      if (event.key === "ArrowDown" && state.text.trim().length >= 2) lookup(state.text.trim());
      return;
    }
    if (event.key === "ArrowDown") { event.preventDefault(); state.active = (state.active + 1) % state.options.length; draw(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); state.active = (state.active - 1 + state.options.length) % state.options.length; draw(); }
    else if (event.key === "Enter") {
      event.preventDefault();
      pick(state.options[Math.max(0, state.active)]);
    } else if (event.key === "Escape") { state.open = false; draw(); }
  }

  function onBlur() {
    // Let a click on an option land first.
    setTimeout(() => { if (state.open) { state.open = false; draw(); } }, 200);
  }

  function draw() {
    const open = state.open && state.options.length > 0;
    const hintId = `${id}-hint`;
    render(html`<div class="field suggest">
        <label for=${id}>${label}</label>
        ${hint ? html`<span class="hint" id=${hintId}>${t("place_hint")}</span>` : nothing}
        <input id=${id} name=${name} type="text" autocomplete="off" role="combobox" aria-autocomplete="list"
          aria-expanded=${open ? "true" : "false"} aria-controls=${`${id}-list`}
          aria-describedby=${hint ? hintId : nothing}
          aria-activedescendant=${open && state.active >= 0 ? `${id}-opt-${state.active}` : nothing}
          ?required=${required} .value=${state.text}
          @input=${onInput} @keydown=${onKey} @blur=${onBlur}>
        <ul id=${`${id}-list`} role="listbox" aria-label=${label} ?hidden=${!open}>
          ${open ? state.options.map((option, index) => html`<li id=${`${id}-opt-${index}`} role="option"
              aria-selected=${index === state.active ? "true" : "false"}
              @mousedown=${(event) => { event.preventDefault(); pick(option); }}>
              ${option.name}${option.district && option.district !== option.name
                ? html` <span class="option-sub">${option.district}</span>` : nothing}${option.postcode
                ? html` <span class="option-sub">${option.postcode}</span>` : nothing}</li>`) : nothing}
        </ul>
        <span class="visually-hidden" aria-live="polite">${state.message}</span>
      </div>`, host);
  }

  draw();
  return {
    setValue(text) { state.text = text; draw(); },
    get input() { return host.querySelector("input"); },
  };
}

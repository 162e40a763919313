// The "Termine" section of an offer's or need's page (not a route of its own): the item's shifts
// for everyone; for a signed-in person sign-up, waitlist and cancelling; for the item's owners a
// form to add a shift, and per shift who is coming, with "remove" (with a reason), hours to
// confirm after the start, changing (moving) and cancelling the shift. A shift may run past
// midnight: start and end each have a date and a time.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, apiBlob, itemsOf } from "../core/api.js";
import { formatNumber, formatRange, toLocalInput } from "../core/format.js";
import { registerTexts, t } from "../core/i18n.js";
import { plural } from "../core/items.js";
import { clearErrors, showErrors } from "../core/forms.js";
import { ACTIVE, berlinDay, berlinIso, hasStarted, personActor, problemText, saveBlob, shiftHours, statusBadge }
  from "../core/shifts.js";
import { errorBox, loading } from "../core/ui.js";

registerTexts({
  de: {
    is_title: "Termine", is_none: "Noch keine Termine.", is_none_owner: "Noch keine Termine. Fügen Sie unten den ersten hinzu.",
    is_sign_in: "Melden Sie sich an, um sich für einen Termin anzumelden.",
    is_need_person: "Um sich für einen Termin anzumelden, brauchen Sie ein persönliches Profil.",
    is_new_person: "Persönliches Profil anlegen",
    is_signup: "Anmelden", is_waitlist: "Auf die Warteliste", is_cancel_signup: "Abmelden",
    is_signup_label: "Anmelden für {when}", is_waitlist_label: "Auf die Warteliste für {when}",
    is_cancel_label: "Abmelden von {when}",
    is_signed_up: "Sie sind angemeldet: {when}.", is_waitlisted: "Sie stehen auf der Warteliste (Platz {n}): {when}.",
    is_cancelled_ok: "Sie haben sich abgemeldet: {when}.",
    is_your_status: "Ihr Status:",
    // owner
    is_add: "Termin hinzufügen", is_start: "Beginn", is_end: "Ende", is_date: "Datum", is_time: "Uhrzeit",
    is_end_hint: "Das Ende ist zunächst am Tag des Beginns. Ein Termin darf über Mitternacht gehen und dauert höchstens 24 Stunden.",
    is_places: "Plätze", is_place: "Ort (optional)",
    is_place_hint: "Zum Beispiel Treffpunkt oder Raum.", is_note: "Hinweis (optional)",
    is_policy: "Anmeldung", is_policy_open: "Alle können sich direkt anmelden",
    is_policy_contact: "Nur nach angenommener Kontaktanfrage",
    is_cutoff: "Abmelden möglich bis … Stunden vor Beginn", is_cutoff_hint: "0 bedeutet: bis zum Beginn.",
    is_add_button: "Termin speichern", is_added: "Termin hinzugefügt: {when}.",
    is_edit: "Ändern", is_edit_label: "Termin ändern: {when}", is_edit_title: "Termin ändern",
    is_edit_notify: "Wenn Sie Beginn oder Ende ändern, werden die Angemeldeten benachrichtigt; ihre Erinnerungen verschieben sich mit.",
    is_places_taken: "Mindestens {n}: so viele sind angemeldet.", is_places_waiting: "Mit mehr Plätzen rücken Wartende nach.",
    is_save_changes: "Änderungen speichern", is_changed_ok: "Termin geändert: {when}.",
    is_moved_ok: "Termin verschoben auf {when}. Die Angemeldeten werden benachrichtigt.", is_unchanged: "Nichts geändert.",
    is_reload: "Aktuellen Stand laden", is_reloaded: "Der aktuelle Stand ist geladen. Bitte nehmen Sie Ihre Änderung erneut vor.",
    is_cancel_shift: "Termin absagen", is_cancel_shift_label: "Termin absagen: {when}",
    is_cancel_shift_confirm: "Diesen Termin wirklich absagen? Alle Angemeldeten werden benachrichtigt.",
    is_shift_cancelled_ok: "Termin abgesagt: {when}.",
    is_who: "Wer kommt", is_who_none: "Noch keine Anmeldungen.",
    is_remove: "entfernen", is_remove_label: "{name} entfernen",
    is_remove_reason: "Grund für {name} (wird mitgeteilt)", is_remove_confirm: "Entfernen", is_removed_ok: "{name} wurde entfernt.",
    is_hours_for: "Stunden von {name}", is_confirm_hours: "Stunden bestätigen", is_confirm_hours_label: "Stunden bestätigen: {name}",
    is_no_show: "Nicht erschienen", is_no_show_label: "Nicht erschienen: {name}",
    is_hours_confirmed: "Bestätigt: {hours}", is_hours_proposed: "Vorgeschlagen: {hours}",
    is_no_show_done: "Nicht erschienen", is_hours_ok: "Stunden von {name} bestätigt.",
    is_confirm_proposed: "Vorschlag bestätigen",
    is_certificate: "Engagementnachweis (PDF)", is_certificate_label: "Engagementnachweis (PDF): {name}",
    is_certificate_done: "Download gestartet: {file}",
  },
  en: {
    is_title: "Dates", is_none: "No dates yet.", is_none_owner: "No dates yet. Add the first one below.",
    is_sign_in: "Sign in to sign up for a date.",
    is_need_person: "To sign up for a date you need a personal profile.",
    is_new_person: "Create a personal profile",
    is_signup: "Sign up", is_waitlist: "Join the waiting list", is_cancel_signup: "Cancel my sign-up",
    is_signup_label: "Sign up for {when}", is_waitlist_label: "Join the waiting list for {when}",
    is_cancel_label: "Cancel my sign-up for {when}",
    is_signed_up: "You are signed up: {when}.", is_waitlisted: "You are on the waiting list (place {n}): {when}.",
    is_cancelled_ok: "You have cancelled your sign-up: {when}.",
    is_your_status: "Your status:",
    is_add: "Add a date", is_start: "Start", is_end: "End", is_date: "Date", is_time: "Time",
    is_end_hint: "The end is on the day of the start at first. A date may run past midnight and lasts at most 24 hours.",
    is_places: "Places", is_place: "Place (optional)",
    is_place_hint: "For example meeting point or room.", is_note: "Note (optional)",
    is_policy: "Sign-up", is_policy_open: "Anyone can sign up directly",
    is_policy_contact: "Only after an accepted contact request",
    is_cutoff: "Cancelling possible until … hours before the start", is_cutoff_hint: "0 means: until the start.",
    is_add_button: "Save date", is_added: "Date added: {when}.",
    is_edit: "Change", is_edit_label: "Change date: {when}", is_edit_title: "Change date",
    is_edit_notify: "If you change the start or end, everyone signed up is told and their reminders move with it.",
    is_places_taken: "At least {n}: that many are signed up.", is_places_waiting: "With more places, people on the waiting list move up.",
    is_save_changes: "Save changes", is_changed_ok: "Date changed: {when}.",
    is_moved_ok: "Date moved to {when}. Everyone signed up is told.", is_unchanged: "Nothing changed.",
    is_reload: "Load the current state", is_reloaded: "The current state is loaded. Please make your change again.",
    is_cancel_shift: "Cancel date", is_cancel_shift_label: "Cancel date: {when}",
    is_cancel_shift_confirm: "Really cancel this date? Everyone signed up is notified.",
    is_shift_cancelled_ok: "Date cancelled: {when}.",
    is_who: "Who is coming", is_who_none: "No sign-ups yet.",
    is_remove: "remove", is_remove_label: "Remove {name}",
    is_remove_reason: "Reason for {name} (they are told)", is_remove_confirm: "Remove", is_removed_ok: "{name} has been removed.",
    is_hours_for: "Hours of {name}", is_confirm_hours: "Confirm hours", is_confirm_hours_label: "Confirm hours: {name}",
    is_no_show: "Did not come", is_no_show_label: "Did not come: {name}",
    is_hours_confirmed: "Confirmed: {hours}", is_hours_proposed: "Proposed: {hours}",
    is_no_show_done: "Did not come", is_hours_ok: "Hours of {name} confirmed.",
    is_confirm_proposed: "Confirm proposal",
    is_certificate: "Certificate (PDF)", is_certificate_label: "Certificate (PDF): {name}",
    is_certificate_done: "Download started: {file}",
  },
});

const nameOf = (signup) => signup.volunteer_name || signup.name || signup.actor_name || signup.actor_id;
const hoursText = (hours) => t("sh_hours_value", { hours: formatNumber(hours, 2) });

/** Draws the section into `container` and keeps it current; `owner`: the caller manages the item. */
export function mountShifts(ctx, container, { item, kind, owner }) {
  const { session } = ctx;
  const state = { shifts: null, error: null, person: undefined, signups: new Map(), errors: new Map(),
    busy: new Set(), removing: null, adding: false,
    editing: null, saving: false, conflict: null }; // the shift being changed; a 409 while saving it
  const base = `/${plural(kind)}/${encodeURIComponent(item.id)}/shifts`;
  const when = (shift) => formatRange(shift.start, shift.end);
  const redraw = () => { if (ctx.isCurrent() && container.isConnected) draw(view(), container); };

  async function load() {
    try {
      state.shifts = itemsOf(await api(base, { signal: ctx.signal }));
      state.error = null;
    } catch (error) {
      if (error.name === "AbortError") return;
      state.error = error;
    }
    redraw();
    if (owner && state.shifts) await Promise.all(state.shifts.map(loadSignups));
  }

  async function loadSignups(shift) {
    if (shift.status === "cancelled") return;
    try {
      state.signups.set(shift.id, itemsOf(await api(`/shifts/${encodeURIComponent(shift.id)}/signups`,
        { signal: ctx.signal })));
    } catch (error) {
      if (error.name === "AbortError") return;
      state.signups.set(shift.id, error);
    }
    redraw();
  }

  async function reloadShift(id) {
    const fresh = await api(`/shifts/${encodeURIComponent(id)}`, { signal: ctx.signal });
    state.shifts = state.shifts.map((shift) => (shift.id === id ? fresh : shift));
    if (owner) await loadSignups(fresh);
    return fresh;
  }

  /** Runs `action` for shift `id` with its busy mark and error; focuses `focus` (a selector) after. */
  async function act(id, action, focus) {
    state.busy.add(id); state.errors.delete(id); redraw();
    try {
      await action();
    } catch (error) {
      if (error.name === "AbortError") return;
      state.errors.set(id, error);
      ctx.announce(problemText(error));
    }
    state.busy.delete(id); redraw();
    if (focus) container.querySelector(focus)?.focus();
  }

  // ---- volunteer ------------------------------------------------------------------------------
  function signUp(shift) {
    return act(shift.id, async () => {
      const signup = await api(`/shifts/${encodeURIComponent(shift.id)}/signups`, { method: "POST",
        body: { actor_id: state.person.id } });
      await reloadShift(shift.id);
      ctx.announce(signup.status === "waitlisted"
        ? t("is_waitlisted", { n: signup.waitlist_position ?? "?", when: when(shift) })
        : t("is_signed_up", { when: when(shift) }));
    }, `#shift-${shift.id} .my-status`);
  }

  function cancelSignup(shift) {
    return act(shift.id, async () => {
      await api(`/signups/${encodeURIComponent(shift.my_signup.id)}/cancel`, { method: "POST", body: {} });
      await reloadShift(shift.id);
      ctx.announce(t("is_cancelled_ok", { when: when(shift) }));
    }, `#shift-${shift.id} .signup-button`);
  }

  function volunteerPart(shift) {
    if (!session.signedIn || owner || !state.person) return nothing;
    const mine = shift.my_signup && ACTIVE.includes(shift.my_signup.status) ? shift.my_signup : null;
    const open = shift.status === "scheduled" && !hasStarted(shift);
    const busy = state.busy.has(shift.id);
    const full = (shift.places_left ?? 1) <= 0;
    return html`
      ${mine ? html`<p class="my-status" tabindex="-1">${t("is_your_status")} ${statusBadge(mine)}</p>` : nothing}
      ${open ? html`<div class="actions">${mine
        ? html`<button type="button" class="signup-button" ?disabled=${busy} aria-label=${t("is_cancel_label", { when: when(shift) })}
            @click=${() => cancelSignup(shift)}>${t("is_cancel_signup")}</button>`
        : html`<button type="button" class="primary signup-button" ?disabled=${busy}
            aria-label=${t(full ? "is_waitlist_label" : "is_signup_label", { when: when(shift) })}
            @click=${() => signUp(shift)}>${t(full ? "is_waitlist" : "is_signup")}</button>`}</div>` : nothing}`;
  }

  // ---- owner: add, change and cancel shifts ---------------------------------------------------
  /** The form's values as the API wants them (start and end as Berlin times with their offset). */
  function formValues(form) {
    const data = new FormData(form);
    const text = (name) => String(data.get(name) || "").trim();
    const number = (name) => (text(name) === "" ? undefined : Number(text(name)));
    const startDate = text("start_date");
    return {
      start: berlinIso(startDate, text("start_time")) || undefined,
      // Without an end date the shift ends on the day it starts.
      end: berlinIso(text("end_date") || startDate, text("end_time")) || undefined,
      places: number("places"),
      place_name: text("place_name"),
      note: text("note"),
      signup_policy: text("signup_policy") || "open",
      cancel_cutoff_hours: number("cancel_cutoff_hours") ?? 0,
    };
  }

  /** What can be told before asking the server, as problems in the API's 422 shape. */
  function check(values) {
    const problems = [];
    if (!values.start) problems.push({ field: "start", type: "missing", message: "" });
    if (!values.end) problems.push({ field: "end", type: "missing", message: "" });
    else if (values.start && Date.parse(values.end) <= Date.parse(values.start)) {
      problems.push({ field: "end", type: "value_error", message: "must be after start" });
    }
    if (values.places === undefined) problems.push({ field: "places", type: "missing", message: "" });
    return problems;
  }

  // The end date follows the start date: the same day at first, and a moved start keeps the
  // number of days to the end (a shift from Saturday night to Sunday stays overnight).
  function startDateChanged(event) {
    const start = event.target;
    const end = start.form.elements.end_date;
    const before = start.dataset.before ?? start.defaultValue;
    start.dataset.before = start.value;
    if (!start.value) return;
    const day = 86400000;
    const days = Math.round((Date.parse(end.value) - Date.parse(before)) / day); // NaN when either is empty
    end.value = new Date(Date.parse(start.value) + (days > 0 ? days : 0) * day).toISOString().slice(0, 10);
  }

  /** Back to the values the form was drawn with (after saving, or with a reloaded shift). */
  function resetForm(form) {
    clearErrors(form);
    form.reset();
    delete form.elements.start_date.dataset.before;
  }

  async function addShift(event) {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    const values = formValues(form);
    const problems = check(values);
    if (problems.length) {
      showErrors(form, { code: "validation_error", status: 422, details: problems });
      return;
    }
    const body = { ...values, place_name: values.place_name || undefined, note: values.note || undefined };
    state.adding = true; redraw();
    try {
      const shift = await api(base, { method: "POST", body });
      state.adding = false;
      resetForm(form);
      ctx.announce(t("is_added", { when: when(shift) }));
      await load();
    } catch (error) {
      state.adding = false; redraw();
      if (error.name === "AbortError") return;
      showErrors(form, error);
    }
  }

  /** The fields of `values` that differ from `shift` (a PATCH sends only those). */
  function changesOf(shift, values) {
    const changes = {};
    for (const name of ["start", "end"]) {
      if (Date.parse(values[name]) !== Date.parse(shift[name])) changes[name] = values[name];
    }
    if (values.places !== shift.places) changes.places = values.places;
    if (values.place_name !== (shift.place_name || "")) changes.place_name = values.place_name || null;
    if (values.note !== (shift.note || "")) changes.note = values.note;
    if (values.signup_policy !== shift.signup_policy) changes.signup_policy = values.signup_policy;
    if (values.cancel_cutoff_hours !== shift.cancel_cutoff_hours) changes.cancel_cutoff_hours = values.cancel_cutoff_hours;
    return changes;
  }

  const editForm = (id) => container.querySelector(`#shift-${id} form.shift-form`);

  function startEdit(shift) {
    state.editing = shift.id; state.conflict = null; redraw();
    container.querySelector(`#shift-${shift.id} form.shift-form h4`)?.focus();
  }

  function stopEdit(id) {
    state.editing = null; state.conflict = null; redraw();
    container.querySelector(`#shift-${id} .edit-button`)?.focus();
  }

  async function saveShift(event, shift) {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    state.conflict = null;
    const values = formValues(form);
    const problems = check(values);
    if (problems.length) {
      redraw();
      showErrors(form, { code: "validation_error", status: 422, details: problems });
      return;
    }
    const changes = changesOf(shift, values);
    if (!Object.keys(changes).length) {
      stopEdit(shift.id);
      ctx.announce(t("is_unchanged"));
      return;
    }
    state.saving = true; redraw();
    try {
      // The version the form was filled from: someone else's change meanwhile gives a 409.
      const saved = await api(`/shifts/${encodeURIComponent(shift.id)}`, { method: "PATCH",
        body: { ...changes, version: shift.version } });
      state.saving = false; state.editing = null;
      const moved = "start" in changes || "end" in changes;
      ctx.announce(t(moved && saved.confirmed ? "is_moved_ok" : "is_changed_ok", { when: when(saved) }));
      // All again: a moved shift takes its new place in the list, more places move people up.
      await load();
      container.querySelector(`#shift-${saved.id} h3`)?.focus();
    } catch (error) {
      state.saving = false;
      if (error.name === "AbortError") return;
      if (error.status === 409) {
        state.conflict = error; redraw();
        editForm(shift.id)?.querySelector(".conflict")?.focus();
      } else {
        redraw();
        showErrors(form, error);
      }
    }
  }

  /** After a 409: the shift as it is now, in the form (what was typed is dropped). */
  async function reloadForEdit(id) {
    state.saving = true; redraw();
    try {
      const fresh = await reloadShift(id);
      state.conflict = null;
      if (fresh.status !== "scheduled" || hasStarted(fresh)) state.editing = null;
    } catch (error) {
      if (error.name === "AbortError") return;
      state.conflict = error;
    }
    state.saving = false; redraw();
    const form = editForm(id);
    if (form && !state.conflict) {
      resetForm(form);
      ctx.announce(t("is_reloaded"));
    }
    (form?.querySelector(state.conflict ? ".conflict" : "h4") || container.querySelector(`#shift-${id} h3`))?.focus();
  }

  function cancelShift(shift) {
    if (!window.confirm(t("is_cancel_shift_confirm"))) return;
    act(shift.id, async () => {
      await api(`/shifts/${encodeURIComponent(shift.id)}`, { method: "DELETE" });
      await reloadShift(shift.id);
      ctx.announce(t("is_shift_cancelled_ok", { when: when(shift) }));
    }, `#shift-${shift.id} h3`);
  }

  /**
   * The form to add a shift (`shift` null) or to change `shift`, filled with its values. Values are
   * bound as the fields' defaults, so that `form.reset()` shows them (again).
   */
  function shiftForm(shift = null) {
    const editing = Boolean(shift);
    const p = editing ? `is-${shift.id}` : "is-new"; // ids unique on the page
    const [startDate = "", startTime = ""] = editing ? toLocalInput(shift.start).split("T") : [];
    const [endDate = "", endTime = ""] = editing ? toLocalInput(shift.end).split("T") : [];
    const policy = editing ? shift.signup_policy : "open";
    const taken = editing ? shift.confirmed : 0;
    const busy = editing ? state.saving : state.adding;
    const conflict = editing && state.conflict;
    const heading = editing ? html`<h4 id=${`${p}-title`} tabindex="-1">${t("is_edit_title")}</h4>`
      : html`<h3 id=${`${p}-title`}>${t("is_add")}</h3>`;
    return html`<form class=${editing ? "shift-form editing" : "card shift-form"} novalidate aria-labelledby=${`${p}-title`}
        @submit=${(event) => (editing ? saveShift(event, shift) : addShift(event))}>
      ${heading}
      ${taken ? html`<p class="hint">${t("is_edit_notify")}</p>` : nothing}
      ${conflict ? html`<div class="notice error conflict" role="alert" tabindex="-1">
          <p>${problemText(conflict)}</p>
          <button type="button" ?disabled=${busy} @click=${() => reloadForEdit(shift.id)}>${t("is_reload")}</button></div>` : nothing}
      <div class="row start-end">
        <fieldset data-field="start">
          <legend>${t("is_start")}</legend>
          <div class="date-time">
            <div class="field"><label for=${`${p}-start-date`}>${t("is_date")}</label>
              <input id=${`${p}-start-date`} name="start_date" type="date" required .defaultValue=${startDate}
                @input=${startDateChanged}></div>
            <div class="field"><label for=${`${p}-start-time`}>${t("is_time")}</label>
              <input id=${`${p}-start-time`} name="start_time" type="time" required .defaultValue=${startTime}></div>
          </div>
        </fieldset>
        <fieldset data-field="end">
          <legend>${t("is_end")}</legend>
          <div class="date-time">
            <div class="field"><label for=${`${p}-end-date`}>${t("is_date")}</label>
              <input id=${`${p}-end-date`} name="end_date" type="date" .defaultValue=${endDate}
                aria-describedby=${`${p}-end-hint`}></div>
            <div class="field"><label for=${`${p}-end-time`}>${t("is_time")}</label>
              <input id=${`${p}-end-time`} name="end_time" type="time" required .defaultValue=${endTime}></div>
          </div>
        </fieldset>
      </div>
      <p class="hint date-hint" id=${`${p}-end-hint`}>${t("is_end_hint")}</p>
      <div class="row three">
        <div class="field"><label for=${`${p}-places`}>${t("is_places")}</label>
          ${taken ? html`<span class="hint" id=${`${p}-places-hint`}>${t("is_places_taken", { n: taken })}
            ${shift.waitlisted ? t("is_places_waiting") : nothing}</span>` : nothing}
          <input id=${`${p}-places`} name="places" type="number" min="1" step="1" inputmode="numeric" required
            .defaultValue=${editing ? String(shift.places) : ""} aria-describedby=${taken ? `${p}-places-hint` : nothing}></div>
        <div class="field"><label for=${`${p}-place`}>${t("is_place")}</label>
          <span class="hint" id=${`${p}-place-hint`}>${t("is_place_hint")}</span>
          <input id=${`${p}-place`} name="place_name" type="text" maxlength="140" aria-describedby=${`${p}-place-hint`}
            .defaultValue=${(editing && shift.place_name) || ""}></div>
        <div class="field"><label for=${`${p}-policy`}>${t("is_policy")}</label>
          <select id=${`${p}-policy`} name="signup_policy">
            <option value="open" ?selected=${policy === "open"}>${t("is_policy_open")}</option>
            <option value="after_contact" ?selected=${policy === "after_contact"}>${t("is_policy_contact")}</option>
          </select></div>
      </div>
      <div class="row">
        <div class="field"><label for=${`${p}-note`}>${t("is_note")}</label>
          <textarea id=${`${p}-note`} name="note" rows="2" maxlength="2000" .defaultValue=${(editing && shift.note) || ""}></textarea></div>
        <div class="field"><label for=${`${p}-cutoff`}>${t("is_cutoff")}</label>
          <span class="hint" id=${`${p}-cutoff-hint`}>${t("is_cutoff_hint")}</span>
          <input id=${`${p}-cutoff`} name="cancel_cutoff_hours" type="number" min="0" step="1" inputmode="numeric"
            .defaultValue=${String(editing ? shift.cancel_cutoff_hours : 0)} aria-describedby=${`${p}-cutoff-hint`}></div>
      </div>
      <div class="actions">
        <button type="submit" class="primary" ?disabled=${busy}>${t(editing ? "is_save_changes" : "is_add_button")}</button>
        ${editing ? html`<button type="button" @click=${() => stopEdit(shift.id)}>${t("cancel")}</button>` : nothing}
      </div>
    </form>`;
  }

  // ---- owner: who is coming -------------------------------------------------------------------
  function startRemove(signup) {
    state.removing = signup.id; redraw();
    container.querySelector(`#remove-reason-${signup.id}`)?.focus();
  }

  async function remove(event, shift, signup) {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    const reason = String(new FormData(form).get("reason") || "").trim();
    try {
      await api(`/signups/${encodeURIComponent(signup.id)}/cancel`, { method: "POST", body: { reason } });
      state.removing = null;
      await reloadShift(shift.id);
      redraw();
      ctx.announce(t("is_removed_ok", { name: nameOf(signup) }));
      container.querySelector(`#shift-${shift.id} h3`)?.focus();
    } catch (error) {
      if (error.name === "AbortError") return;
      showErrors(form, error);
    }
  }

  async function reportHours(event, shift, signup, attended) {
    event.preventDefault();
    const form = event.target.closest("form");
    clearErrors(form);
    const value = String(new FormData(form).get("hours") || "").trim();
    const body = attended ? { hours: value === "" ? null : Number(value.replace(",", ".")), attended: true }
      : { hours: 0, attended: false };
    try {
      await api(`/signups/${encodeURIComponent(signup.id)}/hours`, { method: "POST", body });
      await loadSignups(shift);
      ctx.announce(t("is_hours_ok", { name: nameOf(signup) }));
      container.querySelector(`#hours-${signup.id}`)?.focus();
    } catch (error) {
      if (error.name === "AbortError") return;
      showErrors(form, error);
    }
  }

  async function confirmProposed(shift, signup) {
    await act(shift.id, async () => {
      await api(`/signups/${encodeURIComponent(signup.id)}/hours/confirm`, { method: "POST", body: {} });
      await loadSignups(shift);
      ctx.announce(t("is_hours_ok", { name: nameOf(signup) }));
    }, `#hours-${signup.id}`);
  }

  // The organisation issues the certificate of the hours it confirmed (of the year worked).
  async function certificate(event, shift, signup) {
    const button = event.currentTarget;
    const year = (berlinDay(signup.hours.worked_on || shift.start) || "").slice(0, 4);
    act(shift.id, async () => {
      const blob = await apiBlob(`/actors/${encodeURIComponent(signup.organisation_actor_id || item.actor_id)}`
        + `/volunteers/${encodeURIComponent(signup.actor_id)}/certificate.pdf`, { query: { year }, signal: ctx.signal });
      const file = `engagementnachweis-${year}-${nameOf(signup).replace(/[^\p{L}\p{N}]+/gu, "-").toLowerCase()}.pdf`;
      saveBlob(blob, file);
      ctx.announce(t("is_certificate_done", { file }));
    }).then(() => button.isConnected && button.focus());
  }

  function hoursPart(shift, signup) {
    if (signup.status !== "confirmed" || !hasStarted(shift)) return nothing;
    const name = nameOf(signup);
    const hours = signup.hours; // {hours, attended, status, worked_on} or null
    if (hours && hours.status === "confirmed") {
      return html`<p class="hours-done" id=${`hours-${signup.id}`} tabindex="-1">${hours.attended === false
        ? t("is_no_show_done") : t("is_hours_confirmed", { hours: hoursText(hours.hours) })}</p>
        ${hours.attended !== false ? html`<button type="button" aria-label=${t("is_certificate_label", { name })}
          @click=${(event) => certificate(event, shift, signup)}>${t("is_certificate")}</button>` : nothing}`;
    }
    const proposed = Boolean(hours && hours.status === "proposed");
    return html`${proposed ? html`<p id=${`hours-${signup.id}`} tabindex="-1">${t("is_hours_proposed", { hours: hoursText(hours.hours) })}
        <button type="button" @click=${() => confirmProposed(shift, signup)}>${t("is_confirm_proposed")}</button></p>` : nothing}
      <form class="inline-form hours-form" novalidate @submit=${(event) => reportHours(event, shift, signup, true)}>
        <div class="field"><label for=${`hours-input-${signup.id}`}>${t("is_hours_for", { name })}</label>
          <input id=${`hours-input-${signup.id}`} name="hours" type="number" min="0" max="24" step="0.25"
            inputmode="decimal" .value=${String(proposed ? hours.hours : shiftHours(shift))}></div>
        <div class="actions">
          <button type="submit" class="primary" aria-label=${t("is_confirm_hours_label", { name })}>${t("is_confirm_hours")}</button>
          <button type="button" aria-label=${t("is_no_show_label", { name })}
            @click=${(event) => reportHours(event, shift, signup, false)}>${t("is_no_show")}</button>
        </div>
      </form>`;
  }

  function signupRow(shift, signup) {
    const name = nameOf(signup);
    const active = ACTIVE.includes(signup.status);
    const removable = active && !hasStarted(shift);
    return html`<li class="signup-row">
      <p><strong>${name}</strong> ${statusBadge(signup)}</p>
      ${state.removing === signup.id
        ? html`<form class="inline-form" novalidate @submit=${(event) => remove(event, shift, signup)}>
            <div class="field"><label for=${`remove-reason-${signup.id}`}>${t("is_remove_reason", { name })}</label>
              <input id=${`remove-reason-${signup.id}`} name="reason" type="text" maxlength="500"></div>
            <div class="actions">
              <button type="submit" class="danger">${t("is_remove_confirm")}</button>
              <button type="button" @click=${() => { state.removing = null; redraw(); }}>${t("cancel")}</button>
            </div></form>`
        : removable ? html`<button type="button" class="danger" aria-label=${t("is_remove_label", { name })}
            @click=${() => startRemove(signup)}>${t("is_remove")}</button>` : nothing}
      ${hoursPart(shift, signup)}
    </li>`;
  }

  function ownerPart(shift) {
    if (!owner || shift.status === "cancelled") return nothing;
    const signups = state.signups.get(shift.id);
    const list = Array.isArray(signups) ? signups.filter((s) => ACTIVE.includes(s.status) || s.hours) : signups;
    const busy = state.busy.has(shift.id);
    return html`
      ${state.editing === shift.id ? shiftForm(shift) : !hasStarted(shift) ? html`<div class="actions">
          <button type="button" class="edit-button" ?disabled=${busy} aria-label=${t("is_edit_label", { when: when(shift) })}
            @click=${() => startEdit(shift)}>${t("is_edit")}</button>
          <button type="button" class="danger" ?disabled=${busy}
            aria-label=${t("is_cancel_shift_label", { when: when(shift) })} @click=${() => cancelShift(shift)}>${t("is_cancel_shift")}</button>
        </div>` : nothing}
      <h4>${t("is_who")}</h4>
      ${signups === undefined ? loading() : signups instanceof Error ? errorBox(signups)
        : list.length ? html`<ul class="signup-list">${list.map((signup) => signupRow(shift, signup))}</ul>`
          : html`<p>${t("is_who_none")}</p>`}`;
  }

  // ---- the section ----------------------------------------------------------------------------
  function shiftView(shift) {
    const cancelled = shift.status === "cancelled";
    const past = !cancelled && shift.end && new Date(shift.end).getTime() < Date.now();
    const error = state.errors.get(shift.id);
    const meta = [
      shift.place_name || null,
      cancelled ? null : (shift.places_left ?? 0) > 0
        ? t("sh_places", { left: shift.places_left, places: shift.places }) : t("sh_full", { places: shift.places }),
      !cancelled && shift.waitlisted ? t("sh_waitlisted_count", { n: shift.waitlisted }) : null,
    ].filter(Boolean).join(" · ");
    return html`<li class=${`card shift${cancelled ? " shift-cancelled" : ""}`} id=${`shift-${shift.id}`} data-day=${berlinDay(shift.start)}>
      <h3 tabindex="-1">${cancelled ? html`<del>${when(shift)}</del>` : when(shift)}
        ${cancelled ? html`<span class="badge status-cancelled">${t("sh_shift_cancelled")}</span>` : nothing}
        ${past ? html`<span class="badge">${t("sh_past")}</span>` : nothing}</h3>
      ${meta ? html`<p class="meta">${meta}</p>` : nothing}
      ${shift.note ? html`<p class="description">${shift.note}</p>` : nothing}
      ${!cancelled && shift.signup_policy === "after_contact" ? html`<p class="meta">${t("sh_after_contact")}</p>` : nothing}
      ${!cancelled && shift.cancel_cutoff_hours ? html`<p class="meta">${t("sh_cutoff", { hours: shift.cancel_cutoff_hours })}</p>` : nothing}
      ${error ? html`<p class="notice error" role="alert">${problemText(error)}</p>` : nothing}
      ${volunteerPart(shift)}
      ${ownerPart(shift)}
    </li>`;
  }

  function view() {
    const shifts = state.shifts || [];
    return html`<section class="shifts" aria-labelledby="i-shifts">
      <h2 id="i-shifts">${t("is_title")}</h2>
      ${!session.signedIn && shifts.some((s) => s.status === "scheduled")
        ? html`<p>${t("is_sign_in")} <a href=${`#/sign-in?next=${encodeURIComponent(ctx.path)}`}>${t("sign_in")}</a></p>` : nothing}
      ${session.signedIn && !owner && state.person === null && shifts.length
        ? html`<p class="notice">${t("is_need_person")} <a href="#/actors/new">${t("is_new_person")}</a></p>` : nothing}
      ${state.error ? errorBox(state.error, { retry: load }) : state.shifts === null ? loading()
        : shifts.length ? html`<ul class="shift-list">${shifts.map(shiftView)}</ul>`
          : html`<p>${t(owner ? "is_none_owner" : "is_none")}</p>`}
      ${owner && ["published", "paused"].includes(item.status) ? shiftForm() : nothing}
    </section>`;
  }

  redraw();
  if (session.signedIn && !owner) {
    personActor(session, { signal: ctx.signal }).then((person) => { state.person = person; redraw(); })
      .catch((error) => { if (error.name !== "AbortError") { state.person = null; redraw(); } });
  }
  load();
}

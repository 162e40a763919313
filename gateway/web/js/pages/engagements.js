// #/me/engagements — "Meine Einsätze": the person's sign-ups as a month calendar (days with
// shifts marked; previous/next month) and an agenda of the month beneath, each with its status
// and cancelling; the personal calendar feed (iCalendar) to copy, and a new secret link.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api, itemsOf } from "../core/api.js";
import { formatNumber, formatRange, WEEKDAYS, weekdayName } from "../core/format.js";
import { lang } from "../core/i18n.js";
import { clearErrors, showErrors } from "../core/forms.js";
import { ACTIVE, berlinDay, daysOf, hasStarted, problemText, shiftHours, shiftWasCancelled, statusBadge } from "../core/shifts.js";
import { errorBox, itemHref, loading, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: {
    en_title: "Meine Einsätze", en_intro: "Ihre Anmeldungen für Termine und Schichten.",
    en_hours_link: "Meine Stunden ansehen",
    en_calendar: "Kalender", en_prev: "Vorheriger Monat", en_next: "Nächster Monat",
    en_month_shown: "{month} wird angezeigt.",
    en_day_label: "{date}: {n} Einsatz", en_day_label_many: "{date}: {n} Einsätze", en_today: "heute",
    en_agenda: "Einsätze im {month}", en_none_month: "In diesem Monat haben Sie keine Einsätze.",
    en_none: "Sie haben sich noch für keinen Termin angemeldet. Termine finden Sie bei den Angeboten und Gesuchen.",
    en_search: "Zur Suche", en_next_one: "Ihr nächster Einsatz: {when}", en_show_month: "{month} anzeigen",
    en_cancel: "Abmelden", en_cancel_label: "Abmelden von {title}, {when}",
    en_cancel_confirm: "Wirklich abmelden?", en_cancelled_ok: "Sie haben sich abgemeldet: {title}, {when}.",
    en_feed: "Kalender-Abo", en_feed_text: "Mit diesem geheimen Link zeigt Ihr Kalenderprogramm (zum Beispiel Outlook, Thunderbird, Google Kalender oder das Smartphone) Ihre Einsätze an und hält sie aktuell. Geben Sie den Link nicht weiter.",
    en_feed_label: "Link zu Ihrem Kalender (iCalendar)", en_copy: "Link kopieren", en_copied: "Der Link ist in der Zwischenablage.",
    en_copy_failed: "Kopieren ist nicht möglich. Bitte markieren Sie den Link und kopieren Sie ihn selbst.",
    en_renew: "Neuen Link erzeugen", en_renew_text: "Ein neuer Link macht den bisherigen ungültig – zum Beispiel, wenn ihn jemand anderes kennt.",
    en_renew_confirm: "Einen neuen Link erzeugen? Der bisherige Link funktioniert danach nicht mehr.",
    en_renewed: "Neuer Link erzeugt. Der bisherige funktioniert nicht mehr.",
    en_hours_label: "Ihre Stunden bei {title}", en_propose: "Stunden vorschlagen", en_propose_label: "Stunden vorschlagen: {title}",
    en_proposed: "Vorgeschlagen: {hours} Stunden – wartet auf die Bestätigung der Organisation.",
    en_confirmed: "Bestätigt: {hours} Stunden", en_no_show: "Laut Organisation nicht erschienen.",
    en_proposed_ok: "Ihre Stunden wurden der Organisation vorgeschlagen.",
    en_feed_hint: "Kopieren Sie den Link in Ihr Kalenderprogramm. Sie finden ihn jederzeit hier wieder, auch für ein weiteres Gerät.",
  },
  en: {
    en_title: "My engagements", en_intro: "Your sign-ups for dates and shifts.",
    en_hours_link: "See my hours",
    en_calendar: "Calendar", en_prev: "Previous month", en_next: "Next month",
    en_month_shown: "Showing {month}.",
    en_day_label: "{date}: {n} engagement", en_day_label_many: "{date}: {n} engagements", en_today: "today",
    en_agenda: "Engagements in {month}", en_none_month: "You have no engagements this month.",
    en_none: "You have not signed up for any date yet. You find dates with the offers and needs.",
    en_search: "To search", en_next_one: "Your next engagement: {when}", en_show_month: "Show {month}",
    en_cancel: "Cancel", en_cancel_label: "Cancel my sign-up for {title}, {when}",
    en_cancel_confirm: "Really cancel?", en_cancelled_ok: "You have cancelled: {title}, {when}.",
    en_feed: "Calendar subscription", en_feed_text: "With this secret link your calendar app (for example Outlook, Thunderbird, Google Calendar or your phone) shows your engagements and keeps them current. Do not share the link.",
    en_feed_label: "Link to your calendar (iCalendar)", en_copy: "Copy link", en_copied: "The link is on the clipboard.",
    en_copy_failed: "Copying is not possible. Please select the link and copy it yourself.",
    en_renew: "Create a new link", en_renew_text: "A new link makes the old one invalid – for example when someone else knows it.",
    en_renew_confirm: "Create a new link? The old link stops working.",
    en_renewed: "New link created. The old one no longer works.",
    en_hours_label: "Your hours at {title}", en_propose: "Propose hours", en_propose_label: "Propose hours: {title}",
    en_proposed: "Proposed: {hours} hours – waiting for the organisation to confirm.",
    en_confirmed: "Confirmed: {hours} hours", en_no_show: "Did not come, says the organisation.",
    en_proposed_ok: "Your hours have been proposed to the organisation.",
    en_feed_hint: "Copy the link into your calendar app. You can find it here again at any time, for another device too.",
  },
};

export function title(ctx) { return ctx.t("en_title"); }

const locale = () => (lang() === "en" ? "en-GB" : "de-DE");
const monthKey = (year, month) => `${year}-${String(month).padStart(2, "0")}`;
const monthName = (year, month) => new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric", timeZone: "UTC" })
  .format(new Date(Date.UTC(year, month - 1, 15)));
const dayName = (day) => new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", weekday: "long", timeZone: "UTC" })
  .format(new Date(`${day}T12:00:00Z`));

/** Sign-ups worth showing: active ones, and those the organisation ended (removed, date called off). */
function shown(signups) {
  const active = new Set(signups.filter((s) => ACTIVE.includes(s.status)).map((s) => s.shift_id));
  return signups.filter((s) => ACTIVE.includes(s.status)
    || ((s.status === "removed" || shiftWasCancelled(s)) && !active.has(s.shift_id)));
}

export async function render(ctx) {
  const { t, session, main } = ctx;
  if (!session.signedIn) {
    draw(html`<h1>${t("en_title")}</h1>${signInNeeded()}`, main);
    return;
  }
  const today = berlinDay(new Date());
  const state = { signups: null, error: null, year: Number(today.slice(0, 4)), month: Number(today.slice(5, 7)),
    feed: null, feedError: null, busy: new Set(), errors: new Map(), renewing: false };
  const redraw = () => { if (ctx.isCurrent()) draw(view(), main); };
  const shiftOf = (signup) => signup.shift || {};
  const titleOf = (signup) => shiftOf(signup).item_title || signup.item_title || "";
  const whenOf = (signup) => formatRange(shiftOf(signup).start, shiftOf(signup).end);

  async function load({ pickMonth = false } = {}) {
    try {
      const items = itemsOf(await api("/me/signups", { signal: ctx.signal }));
      state.signups = shown(items).sort((a, b) => String(shiftOf(a).start).localeCompare(String(shiftOf(b).start)));
      state.error = null;
      if (pickMonth) {
        // Open at the month of the next engagement (else this month).
        const next = state.signups.find((s) => ACTIVE.includes(s.status) && !hasStarted(shiftOf(s)));
        if (next) {
          const day = berlinDay(shiftOf(next).start);
          state.year = Number(day.slice(0, 4)); state.month = Number(day.slice(5, 7));
        }
      }
    } catch (error) {
      if (error.name === "AbortError") return;
      state.error = error;
    }
    redraw();
  }

  async function loadFeed() {
    try {
      state.feed = await api("/me/calendar", { signal: ctx.signal });
      state.feedError = null;
    } catch (error) {
      if (error.name === "AbortError") return;
      state.feedError = error;
    }
    redraw();
  }

  // ---- month ----------------------------------------------------------------------------------
  function showMonth(year, month, { focus } = {}) {
    const date = new Date(Date.UTC(year, month - 1, 1));
    state.year = date.getUTCFullYear(); state.month = date.getUTCMonth() + 1;
    redraw();
    ctx.announce(t("en_month_shown", { month: monthName(state.year, state.month) }));
    if (focus) main.querySelector(focus)?.focus();
  }

  // A shift over midnight marks each of its days.
  function byDay() {
    const days = new Map();
    for (const signup of state.signups || []) {
      for (const day of daysOf(shiftOf(signup))) {
        if (!days.has(day)) days.set(day, []);
        days.get(day).push(signup);
      }
    }
    return days;
  }

  function goToDay(day) {
    // The first entry on that day in the agenda: its link (or its title without one).
    const entry = `li[data-days~="${day}"]`;
    (main.querySelector(`${entry} h3 a`) || main.querySelector(`${entry} h3 [tabindex]`))?.focus();
  }

  function monthView() {
    const { year, month } = state;
    const days = byDay();
    const first = (new Date(Date.UTC(year, month - 1, 1)).getUTCDay() + 6) % 7; // Monday = 0
    const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const cells = [...Array(first).fill(null), ...Array.from({ length }, (_, i) => i + 1)];
    while (cells.length % 7) cells.push(null);
    const weeks = Array.from({ length: cells.length / 7 }, (_, i) => cells.slice(i * 7, i * 7 + 7));
    const name = monthName(year, month);
    return html`<section class="card calendar" aria-labelledby="en-month">
      <h2 id="en-month">${name}</h2>
      <div class="calendar-head">
        <button type="button" id="en-prev" @click=${() => showMonth(year, month - 1, { focus: "#en-prev" })}>
          <span aria-hidden="true">‹</span> ${t("en_prev")}</button>
        <button type="button" id="en-next" @click=${() => showMonth(year, month + 1, { focus: "#en-next" })}>
          ${t("en_next")} <span aria-hidden="true">›</span></button>
      </div>
      <table class="month-grid">
        <caption class="visually-hidden">${t("en_calendar")}: ${name}</caption>
        <thead><tr>${WEEKDAYS.map((day) => html`<th scope="col"><span aria-hidden="true">${weekdayName(day, "short")}</span>
          <span class="visually-hidden">${weekdayName(day)}</span></th>`)}</tr></thead>
        <tbody>${weeks.map((week) => html`<tr>${week.map((number) => {
          if (!number) return html`<td class="empty"></td>`;
          const day = `${monthKey(year, month)}-${String(number).padStart(2, "0")}`;
          const entries = days.get(day) || [];
          const active = entries.filter((s) => ACTIVE.includes(s.status)).length;
          const current = day === today;
          return html`<td class=${[entries.length ? "has-shifts" : "", current ? "today" : ""].join(" ").trim() || nothing}
              aria-current=${current ? "date" : nothing}>
            ${entries.length
              ? html`<button type="button" class="day" data-calendar-day=${day}
                  aria-label=${t(entries.length === 1 ? "en_day_label" : "en_day_label_many", { date: dayName(day), n: entries.length })
                    + (current ? ` (${t("en_today")})` : "")}
                  @click=${() => goToDay(day)}>${number}<span class=${active ? "dot" : "dot off"} aria-hidden="true"></span></button>`
              : html`<span class="day">${number}</span>`}</td>`;
        })}</tr>`)}</tbody>
      </table>
    </section>`;
  }

  // ---- agenda ---------------------------------------------------------------------------------
  async function cancel(signup) {
    if (!window.confirm(t("en_cancel_confirm"))) return;
    state.busy.add(signup.id); state.errors.delete(signup.id); redraw();
    try {
      await api(`/signups/${encodeURIComponent(signup.id)}/cancel`, { method: "POST", body: {} });
      ctx.announce(t("en_cancelled_ok", { title: titleOf(signup), when: whenOf(signup) }));
      state.busy.delete(signup.id);
      await load();
      main.querySelector("#en-agenda")?.focus();
    } catch (error) {
      state.busy.delete(signup.id);
      if (error.name === "AbortError") return;
      state.errors.set(signup.id, error);
      redraw();
      ctx.announce(problemText(error));
    }
  }

  // After the shift the volunteer may propose their hours; the organisation confirms them.
  async function propose(event, signup) {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    const value = String(new FormData(form).get("hours") || "").trim().replace(",", ".");
    try {
      await api(`/signups/${encodeURIComponent(signup.id)}/hours`, { method: "POST",
        body: { hours: value === "" ? null : Number(value), attended: true } });
      ctx.announce(t("en_proposed_ok"));
      await load();
      main.querySelector(`#signup-${signup.id} .hours-state`)?.focus();
    } catch (error) {
      if (error.name === "AbortError") return;
      showErrors(form, error);
    }
  }

  function hoursView(signup) {
    const shift = shiftOf(signup);
    const hours = signup.hours;
    if (signup.status !== "confirmed" || !hasStarted(shift)) return nothing;
    if (hours && hours.status === "confirmed") {
      return html`<p class="hours-state hours-done" tabindex="-1">${hours.attended === false ? t("en_no_show")
        : t("en_confirmed", { hours: formatNumber(hours.hours, 2) })}</p>`;
    }
    const id = `en-hours-${signup.id}`;
    return html`${hours ? html`<p class="hours-state" tabindex="-1">${t("en_proposed", { hours: formatNumber(hours.hours, 2) })}</p>` : nothing}
      <form class="inline-form" novalidate @submit=${(event) => propose(event, signup)}>
        <div class="field"><label for=${id}>${t("en_hours_label", { title: titleOf(signup) })}</label>
          <input id=${id} name="hours" type="number" min="0" max="24" step="0.25" inputmode="decimal"
            .value=${String(hours ? hours.hours : shiftHours(shift))}></div>
        <div class="actions"><button type="submit" aria-label=${t("en_propose_label", { title: titleOf(signup) })}>${t("en_propose")}</button></div>
      </form>`;
  }

  function entryView(signup) {
    const shift = shiftOf(signup);
    const kind = shift.item_kind || signup.item_kind;
    const name = titleOf(signup);
    const cancellable = ACTIVE.includes(signup.status) && !hasStarted(shift) && shift.status !== "cancelled";
    const error = state.errors.get(signup.id);
    return html`<li class="card engagement" id=${`signup-${signup.id}`} data-day=${berlinDay(shift.start)}
        data-days=${daysOf(shift).join(" ")}>
      <h3>${kind ? html`<a href=${itemHref(kind, signup.item_id)}>${name}</a>` : html`<span tabindex="-1">${name}</span>`}</h3>
      <p><strong>${whenOf(signup)}</strong>${shift.place_name ? html` · ${shift.place_name}` : nothing}</p>
      <p>${statusBadge(signup)}</p>
      ${error ? html`<p class="notice error" role="alert">${problemText(error)}</p>` : nothing}
      ${hoursView(signup)}
      ${cancellable ? html`<div class="actions"><button type="button" ?disabled=${state.busy.has(signup.id)}
          aria-label=${t("en_cancel_label", { title: name, when: whenOf(signup) })}
          @click=${() => cancel(signup)}>${t("en_cancel")}</button></div>` : nothing}
    </li>`;
  }

  function agendaView() {
    const key = monthKey(state.year, state.month);
    const name = monthName(state.year, state.month);
    const entries = (state.signups || []).filter((s) => daysOf(shiftOf(s)).some((day) => day.startsWith(key)));
    const next = (state.signups || []).find((s) => ACTIVE.includes(s.status) && !hasStarted(shiftOf(s))
      && !berlinDay(shiftOf(s).start).startsWith(key));
    const nextDay = next ? berlinDay(shiftOf(next).start) : "";
    const nextYear = Number(nextDay.slice(0, 4));
    const nextMonth = Number(nextDay.slice(5, 7));
    return html`<section aria-labelledby="en-agenda">
      <h2 id="en-agenda" tabindex="-1">${t("en_agenda", { month: name })}</h2>
      ${entries.length ? html`<ul class="cards agenda">${entries.map(entryView)}</ul>` : html`<p>${t("en_none_month")}</p>`}
      ${!entries.length && next ? html`<p>${t("en_next_one", { when: `${titleOf(next)}, ${whenOf(next)}` })}
          <button type="button" class="link-button" @click=${() => showMonth(nextYear, nextMonth, { focus: "#en-agenda" })}>
            ${t("en_show_month", { month: monthName(nextYear, nextMonth) })}</button></p>` : nothing}
    </section>`;
  }

  // ---- feed -----------------------------------------------------------------------------------
  const feedUrl = () => {
    const url = state.feed && state.feed.url;
    if (!url) return "";
    return url.startsWith("/") ? `${window.location.origin}${url}` : url;
  };

  async function copy() {
    try {
      await navigator.clipboard.writeText(feedUrl());
      ctx.announce(t("en_copied"));
    } catch {
      const input = main.querySelector("#en-feed-url");
      input?.focus();
      input?.select();
      ctx.announce(t("en_copy_failed"));
    }
  }

  async function renew() {
    if (!window.confirm(t("en_renew_confirm"))) return;
    state.renewing = true; redraw();
    try {
      state.feed = await api("/me/calendar/renew", { method: "POST", body: {} });
      state.feedError = null;
      ctx.announce(t("en_renewed"));
    } catch (error) {
      if (error.name !== "AbortError") state.feedError = error;
    }
    state.renewing = false; redraw();
    main.querySelector("#en-feed-url")?.focus();
  }

  function feedView() {
    // The same link every time until it is renewed (the server derives it from a secret of
    // its own), so a phone and a laptop can subscribe one after the other.
    const url = feedUrl();
    return html`<section class="card stacked feed" aria-labelledby="en-feed">
      <h2 id="en-feed">${t("en_feed")}</h2>
      <p>${t("en_feed_text")}</p>
      ${state.feedError ? errorBox(state.feedError, { retry: loadFeed }) : state.feed === null ? loading() : html`
        ${url ? html`<div class="field"><label for="en-feed-url">${t("en_feed_label")}</label>
            <span class="hint" id="en-feed-hint">${t("en_feed_hint")}</span>
            <input id="en-feed-url" type="text" readonly .value=${url} aria-describedby="en-feed-hint"
              @focus=${(event) => event.target.select()}></div>` : nothing}
        <div class="actions">
          ${url ? html`<button type="button" class="primary" @click=${copy}>${t("en_copy")}</button>` : nothing}
          <button type="button" ?disabled=${state.renewing} aria-describedby="en-renew-text" @click=${renew}>${t("en_renew")}</button>
        </div>
        <p class="meta" id="en-renew-text">${t("en_renew_text")}</p>`}
    </section>`;
  }

  function view() {
    return html`<h1>${t("en_title")}</h1>
      <p>${t("en_intro")} <a href="#/me/hours">${t("en_hours_link")}</a></p>
      ${state.error ? errorBox(state.error, { retry: () => load() }) : state.signups === null ? loading() : html`
        ${!state.signups.length ? html`<p class="notice">${t("en_none")} <a href="#/search">${t("en_search")}</a></p>` : nothing}
        <div class="engagements-layout">
          ${monthView()}
          ${agendaView()}
        </div>`}
      ${feedView()}`;
  }

  redraw();
  await Promise.all([load({ pickMonth: true }), loadFeed()]);
}

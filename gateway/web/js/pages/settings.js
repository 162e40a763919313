// #/settings/notifications (and #/settings): how each of the caller's profiles is told about
// matches and contact requests: channels, instant or daily digest, webhook URL and its secret
// (shown once, copyable). Recent deliveries (e-mails, digests, webhooks) below.
import { html, render as draw, nothing } from "/static/vendor/lit-html/lit-html.js";
import { api } from "../core/api.js";
import { clearErrors, showErrors } from "../core/forms.js";
import { formatDateTime } from "../core/format.js";
import { errorBox, loading, signInNeeded } from "../core/ui.js";

export const TEXTS = {
  de: {
    st_title: "Benachrichtigungen einstellen",
    st_intro: "Legen Sie für jedes Ihrer Profile fest, wie Sie von passenden Vorschlägen und Kontaktanfragen erfahren.",
    st_no_actor: "Sie haben noch kein Profil, für das Benachrichtigungen eingestellt werden können. Neue Profile erscheinen hier nach wenigen Sekunden.",
    st_create_actor: "Profil anlegen",
    st_profile: "Profil", st_profile_unknown: "Profil {id}",
    st_channels: "Wege", st_channels_hint: "Worüber sollen wir Sie benachrichtigen?",
    st_inbox: "Im Posteingang dieser Plattform", st_email: "Per E-Mail",
    st_webhook: "Per Webhook an ein eigenes System (für Organisationen)",
    st_frequency: "Wie oft?",
    st_instant: "Sofort",
    st_daily: "Einmal täglich als Zusammenfassung per E-Mail",
    st_off: "Pausiert (keine E-Mails und Webhooks; der Posteingang bleibt)",
    st_webhook_hint_daily: "Webhooks gehen immer sofort hinaus.",
    st_webhook_url: "Webhook-Adresse (URL)",
    st_webhook_url_hint: "Eine https-Adresse Ihres Systems. Wir senden jede Benachrichtigung als JSON per POST, signiert im Kopf „X-Signature: sha256=…“ (HMAC-SHA256 mit dem Geheimnis).",
    st_secret_set: "Für diesen Webhook ist ein Geheimnis hinterlegt.",
    st_rotate: "Neues Geheimnis erzeugen", st_remove_webhook: "Webhook entfernen",
    st_save: "Einstellungen speichern", st_saved: "Einstellungen für {name} gespeichert.",
    st_removed: "Webhook für {name} entfernt.", st_rotated: "Neues Geheimnis für {name} erzeugt.",
    st_secret_title: "Ihr Webhook-Geheimnis",
    st_secret_once: "Es wird nur dieses eine Mal angezeigt. Kopieren Sie es jetzt und hinterlegen Sie es in Ihrem System.",
    st_secret_label: "Geheimnis", st_copy: "Geheimnis kopieren", st_copied: "Geheimnis in die Zwischenablage kopiert.",
    st_copy_failed: "Kopieren ist nicht möglich. Bitte markieren Sie das Geheimnis und kopieren Sie es selbst.",
    st_deliveries: "Zuletzt versandt", st_deliveries_caption: "E-Mails, Zusammenfassungen und Webhooks an Ihre Profile, neueste zuerst",
    st_deliveries_none: "Noch nichts versandt.",
    st_col_when: "Zeitpunkt", st_col_channel: "Weg", st_col_kind: "Art", st_col_status: "Status",
    st_col_attempts: "Versuche", st_col_error: "Letzter Fehler",
    st_channel_email: "E-Mail", st_channel_webhook: "Webhook", st_kind_instant: "sofort", st_kind_digest: "Zusammenfassung",
    "st_status_pending": "wird gesendet", "st_status_sent": "gesendet", "st_status_retrying": "neuer Versuch folgt",
    "st_status_failed": "fehlgeschlagen", "st_status_deferred": "für die Zusammenfassung vorgemerkt",
    "st_status_digested": "in der Zusammenfassung", "st_status_cancelled": "nicht gesendet",
    "st_status_waiting": "wartet",
    st_more_deliveries: "Weitere laden",
  },
  en: {
    st_title: "Notification settings",
    st_intro: "Choose for each of your profiles how you hear about suggested matches and contact requests.",
    st_no_actor: "You do not have a profile yet for which notifications can be set. New profiles appear here after a few seconds.",
    st_create_actor: "Create a profile",
    st_profile: "Profile", st_profile_unknown: "Profile {id}",
    st_channels: "Channels", st_channels_hint: "How should we notify you?",
    st_inbox: "In this platform's inbox", st_email: "By e-mail",
    st_webhook: "By webhook to your own system (for organisations)",
    st_frequency: "How often?",
    st_instant: "Instantly",
    st_daily: "Once a day as an e-mail digest",
    st_off: "Paused (no e-mails and webhooks; the inbox stays)",
    st_webhook_hint_daily: "Webhooks are always sent instantly.",
    st_webhook_url: "Webhook address (URL)",
    st_webhook_url_hint: "An https address of your system. We POST every notification as JSON, signed in the header “X-Signature: sha256=…” (HMAC-SHA256 with the secret).",
    st_secret_set: "A secret is set for this webhook.",
    st_rotate: "Create a new secret", st_remove_webhook: "Remove webhook",
    st_save: "Save settings", st_saved: "Settings for {name} saved.",
    st_removed: "Webhook for {name} removed.", st_rotated: "New secret for {name} created.",
    st_secret_title: "Your webhook secret",
    st_secret_once: "It is shown only this once. Copy it now and store it in your system.",
    st_secret_label: "Secret", st_copy: "Copy secret", st_copied: "Secret copied to the clipboard.",
    st_copy_failed: "Copying is not possible. Please select the secret and copy it yourself.",
    st_deliveries: "Recently sent", st_deliveries_caption: "E-mails, digests and webhooks to your profiles, newest first",
    st_deliveries_none: "Nothing sent yet.",
    st_col_when: "When", st_col_channel: "Channel", st_col_kind: "Kind", st_col_status: "Status",
    st_col_attempts: "Attempts", st_col_error: "Last error",
    st_channel_email: "E-mail", st_channel_webhook: "Webhook", st_kind_instant: "instant", st_kind_digest: "digest",
    "st_status_pending": "being sent", "st_status_sent": "sent", "st_status_retrying": "will be retried",
    "st_status_failed": "failed", "st_status_deferred": "kept for the digest",
    "st_status_digested": "in the digest", "st_status_cancelled": "not sent",
    "st_status_waiting": "waiting",
    st_more_deliveries: "Load more",
  },
};

const CHANNELS = ["inbox", "email", "webhook"];
const FREQUENCIES = ["instant", "daily", "off"];

export function title(ctx) { return ctx.t("st_title"); }

export async function render(ctx) {
  const { t, session } = ctx;
  if (!session.signedIn) { draw(html`<h1>${t("st_title")}</h1>${signInNeeded()}`, ctx.main); return; }

  const state = {
    loading: true, error: null, prefs: [], names: new Map(), secrets: new Map(), busy: new Set(),
    deliveries: null, deliveriesNext: null, deliveriesError: null,
  };
  const redraw = () => { if (ctx.isCurrent()) draw(view(), ctx.main); };
  const nameOf = (id) => state.names.get(id) || t("st_profile_unknown", { id: id.slice(0, 8) });

  async function load() {
    const answer = await api("/me/notification-preferences", { signal: ctx.signal });
    state.prefs = Array.isArray(answer.items) ? answer.items : [answer];
    await Promise.all(state.prefs.map(async (pref) => {
      try {
        const actor = await api(`/actors/${encodeURIComponent(pref.actor_id)}`, { signal: ctx.signal });
        state.names.set(pref.actor_id, actor.name);
      } catch (error) { if (error.name === "AbortError") throw error; }
    }));
  }

  async function loadDeliveries(cursor) {
    try {
      const answer = await api("/me/deliveries", { query: { limit: 10, cursor }, signal: ctx.signal });
      state.deliveries = [...(cursor ? state.deliveries || [] : []), ...(answer.items || [])];
      state.deliveriesNext = answer.next_cursor || null;
    } catch (error) {
      if (error.name === "AbortError") throw error;
      state.deliveriesError = error;
    }
  }

  // ---- saving ---------------------------------------------------------------------------------
  async function send(pref, form, body, doneKey) {
    clearErrors(form);
    state.busy.add(pref.actor_id);
    redraw();
    try {
      const updated = await api("/me/notification-preferences", { method: "PUT", body: { actor_id: pref.actor_id, ...body } });
      Object.assign(pref, updated);
      if (updated.webhook_secret) state.secrets.set(pref.actor_id, updated.webhook_secret);
      else if (!updated.webhook_url) state.secrets.delete(pref.actor_id);
      ctx.announce(t(doneKey, { name: nameOf(pref.actor_id) }));
      state.busy.delete(pref.actor_id);
      redraw();
      // A new secret is shown once: take the user there.
      if (updated.webhook_secret) form.querySelector(".secret-box input")?.focus();
    } catch (error) {
      state.busy.delete(pref.actor_id);
      redraw();
      if (error.name === "AbortError") return;
      showErrors(form, readable(error));
    }
  }

  // The notifications service words some field problems its own way: say them in the terms
  // the shared translations know ("required" → please fill in; "http or https" → http(s)).
  function readable(error) {
    if (!Array.isArray(error.details) || !error.details.length) return error;
    error.details = error.details.map((detail) => {
      const message = String(detail.message || "");
      if (/is required when/.test(message)) return { ...detail, type: "missing" };
      if (/http or https URL|valid URL|must name a host/.test(message)) return { ...detail, message: "must be an http(s) URL" };
      return detail;
    });
    return error;
  }

  function onSubmit(event, pref) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const channels = Object.fromEntries(CHANNELS.map((c) => [c, data.get(`channels.${c}`) === "on"]));
    const url = String(data.get("webhook_url") || "").trim();
    const body = { channels, frequency: data.get("frequency") || pref.frequency };
    if (url && url !== pref.webhook_url) body.webhook_url = url;
    if (!url && pref.webhook_url) body.webhook_url = null;
    send(pref, form, body, "st_saved");
  }

  function rotate(event, pref) {
    send(pref, event.target.closest("form"), { rotate_webhook_secret: true }, "st_rotated");
  }

  function removeWebhook(event, pref) {
    const form = event.target.closest("form");
    send(pref, form, { webhook_url: null, channels: { webhook: false } }, "st_removed");
  }

  async function copySecret(event, pref) {
    const input = event.target.closest(".secret-box").querySelector("input");
    try {
      await navigator.clipboard.writeText(state.secrets.get(pref.actor_id));
      ctx.announce(t("st_copied"));
    } catch {
      input.focus();
      input.select();
      ctx.announce(t("st_copy_failed"));
    }
  }

  // ---- views ----------------------------------------------------------------------------------
  function prefForm(pref, index) {
    const id = (name) => `pref-${index}-${name}`;
    const busy = state.busy.has(pref.actor_id);
    const secret = state.secrets.get(pref.actor_id);
    const channels = pref.channels || {};
    const headingId = id("heading");
    return html`<section class="card pref-card" aria-labelledby=${headingId}>
      <h2 id=${headingId}>${nameOf(pref.actor_id)}</h2>
      <form novalidate @submit=${(event) => onSubmit(event, pref)}>
        <fieldset data-field="channels">
          <legend>${t("st_channels")}</legend>
          <p class="hint">${t("st_channels_hint")}</p>
          ${CHANNELS.map((channel) => html`<label class="check" for=${id(channel)}>
            <input type="checkbox" id=${id(channel)} name="channels.${channel}" .checked=${Boolean(channels[channel])}>
            ${t(`st_${channel}`)}</label>`)}
        </fieldset>
        <fieldset data-field="frequency">
          <legend>${t("st_frequency")}</legend>
          ${FREQUENCIES.map((frequency) => html`<label class="check" for=${id(frequency)}>
            <input type="radio" id=${id(frequency)} name="frequency" value=${frequency}
              .checked=${pref.frequency === frequency}>${t(`st_${frequency}`)}</label>`)}
          <p class="hint">${t("st_webhook_hint_daily")}</p>
        </fieldset>
        <div class="field">
          <label for=${id("url")}>${t("st_webhook_url")}</label>
          <span class="hint" id=${id("url-hint")}>${t("st_webhook_url_hint")}</span>
          <input type="url" id=${id("url")} name="webhook_url" inputmode="url" autocomplete="url"
            placeholder="https://" aria-describedby=${id("url-hint")} .value=${pref.webhook_url || ""}>
        </div>
        ${secret ? html`<div class="secret-box notice ok" role="region" aria-labelledby=${id("secret-title")}>
            <h3 id=${id("secret-title")}>${t("st_secret_title")}</h3>
            <p>${t("st_secret_once")}</p>
            <div class="field">
              <label for=${id("secret")}>${t("st_secret_label")}</label>
              <input type="text" id=${id("secret")} class="mono" readonly .value=${secret}
                @focus=${(event) => event.target.select()}>
            </div>
            <button type="button" @click=${(event) => copySecret(event, pref)}>${t("st_copy")}</button>
          </div>`
          : (pref.webhook_url && pref.webhook_secret_set ? html`<p class="muted">${t("st_secret_set")}</p>` : nothing)}
        <div class="actions">
          <button type="submit" class="primary" ?disabled=${busy}>${t("st_save")}</button>
          ${pref.webhook_url ? html`
            <button type="button" ?disabled=${busy} @click=${(event) => rotate(event, pref)}>${t("st_rotate")}</button>
            <button type="button" class="danger" ?disabled=${busy} @click=${(event) => removeWebhook(event, pref)}>${t("st_remove_webhook")}</button>` : nothing}
        </div>
      </form>
    </section>`;
  }

  function deliveriesView() {
    if (state.deliveriesError) return html`<h2>${t("st_deliveries")}</h2>${errorBox(state.deliveriesError)}`;
    if (!state.deliveries) return nothing;
    if (!state.deliveries.length) return html`<h2>${t("st_deliveries")}</h2><p class="muted">${t("st_deliveries_none")}</p>`;
    return html`<h2 id="deliveries-heading">${t("st_deliveries")}</h2>
      <div class="table-wrap" role="region" aria-labelledby="deliveries-heading" tabindex="0">
        <table class="data-table">
          <caption>${t("st_deliveries_caption")}</caption>
          <thead><tr>
            <th scope="col">${t("st_col_when")}</th><th scope="col">${t("st_profile")}</th>
            <th scope="col">${t("st_col_channel")}</th><th scope="col">${t("st_col_kind")}</th>
            <th scope="col">${t("st_col_status")}</th><th scope="col" class="num">${t("st_col_attempts")}</th>
            <th scope="col">${t("st_col_error")}</th></tr></thead>
          <tbody>${state.deliveries.map((d) => html`<tr>
            <td>${formatDateTime(d.updated_at || d.created_at)}</td>
            <td>${nameOf(d.actor_id)}</td>
            <td>${t(`st_channel_${d.channel}`)}</td>
            <td>${t(`st_kind_${d.kind}`)}</td>
            <td>${TEXTS.de[`st_status_${d.status}`] ? t(`st_status_${d.status}`) : d.status}</td>
            <td class="num">${d.attempts ?? ""}</td>
            <td class="wrap-anywhere">${d.last_error || ""}</td></tr>`)}</tbody>
        </table>
      </div>
      ${state.deliveriesNext ? html`<p><button type="button" @click=${async () => { await loadDeliveries(state.deliveriesNext); redraw(); }}>${t("st_more_deliveries")}</button></p>` : nothing}`;
  }

  function view() {
    const head = html`<h1>${t("st_title")}</h1><p>${t("st_intro")}</p>`;
    if (state.loading) return html`${head}${loading()}`;
    if (state.error) return html`${head}${errorBox(state.error, { retry: () => ctx.navigate(window.location.hash) })}`;
    if (!state.prefs.length) {
      return html`${head}<p class="notice">${t("st_no_actor")} <a href="#/actors/new">${t("st_create_actor")}</a></p>`;
    }
    return html`${head}
      <div class="pref-list">${state.prefs.map(prefForm)}</div>
      ${deliveriesView()}`;
  }

  redraw();
  try {
    await Promise.all([load(), loadDeliveries()]);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    state.error = error;
  }
  state.loading = false;
  redraw();
}

// Small shared pieces of markup (lit-html templates) used by several pages.
import { html, nothing } from "/static/vendor/lit-html/lit-html.js";
import { errorText, t } from "./i18n.js";
import { formatDistance } from "./format.js";

export const kindPath = (kind) => (kind === "offer" ? "offers" : kind === "need" ? "needs" : "actors");
export const itemHref = (kind, id) => `#/${kindPath(kind)}/${encodeURIComponent(id)}`;

export function loading() {
  return html`<p class="loading" role="status">${t("loading")}</p>`;
}

/** An error as a visible box (the message translated from the API's code). */
export function errorBox(error, { retry } = {}) {
  return html`<div class="notice error" role="alert"><p>${errorText(error)}</p>
    ${retry ? html`<button type="button" @click=${retry}>${t("retry")}</button>` : nothing}</div>`;
}

export function signInNeeded() {
  return html`<p class="notice">${t("need_sign_in")} <a href="#/sign-in">${t("go_sign_in")}</a></p>`;
}

export function kindBadge(kind) {
  return html`<span class="badge kind-${kind}">${t(kind)}</span>`;
}

export function statusBadge(status) {
  if (!status || status === "published") return nothing;
  return html`<span class="badge status-${status}">${t(`status_${status}`)}</span>`;
}

export function categoryTags(vocab, categories) {
  return (categories || []).map((c) => html`<span class="tag">${vocab.label("categories", c)}</span>`);
}

/** A search hit or an item as a card: title link, kind, distance, place, categories. */
export function itemCard(item, vocab, { heading = "h3", extra = nothing, attrs = {} } = {}) {
  const href = itemHref(item.kind, item.id);
  const title = heading === "h2" ? html`<h2><a href=${href}>${item.title}</a></h2>` : html`<h3><a href=${href}>${item.title}</a></h3>`;
  const meta = [
    item.distance_km != null ? formatDistance(item.distance_km) : null,
    item.place_name || null,
    item.remote ? t("remote_possible") : null,
    item.engagement ? vocab.label("engagement-types", item.engagement) : null,
  ].filter(Boolean).join(" · ");
  return html`<li class="card" data-id=${item.id} id=${attrs.id || nothing}>
    ${title}
    <p class="meta">${item.kind ? kindBadge(item.kind) : nothing} ${statusBadge(item.status)} ${meta}</p>
    <div>${categoryTags(vocab, item.categories)}</div>
    ${extra}
  </li>`;
}

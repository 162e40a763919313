// Any hash that no route matches.
import { html, render as draw } from "/static/vendor/lit-html/lit-html.js";

export const TEXTS = {
  de: { nf_title: "Seite nicht gefunden", nf_text: "Diese Seite gibt es nicht (mehr).", nf_home: "Zur Startseite", nf_search: "Zur Suche" },
  en: { nf_title: "Page not found", nf_text: "This page does not exist (any more).", nf_home: "To the home page", nf_search: "To the search" },
};

export function title(ctx) { return ctx.t("nf_title"); }

export async function render(ctx) {
  const { t } = ctx;
  draw(html`<h1>${t("nf_title")}</h1>
    <p>${t("nf_text")}</p>
    <p><a href="#/">${t("nf_home")}</a> · <a href="#/search">${t("nf_search")}</a></p>`, ctx.main);
}

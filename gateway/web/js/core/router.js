// Hash routes: "#/needs/:id?x=1". The query is part of the URL, so a search can be shared and
// Back restores it. Each route loads its page module on first use.
import { render, html } from "/static/vendor/lit-html/lit-html.js";
import { registerTexts, t } from "./i18n.js";

/** "#/search?kind=need&q=x" → {path: "#/search", query: {kind: "need", q: "x"}} (repeated keys → array). */
export function parseHash(hash) {
  let value = hash || "#/";
  if (!value.startsWith("#/")) value = "#/";
  const at = value.indexOf("?");
  const path = (at < 0 ? value : value.slice(0, at)).replace(/\/+$/, "") || "#";
  const query = {};
  if (at >= 0) {
    for (const [name, item] of new URLSearchParams(value.slice(at + 1))) {
      if (name in query) query[name] = [].concat(query[name], item);
      else query[name] = item;
    }
  }
  return { path: path === "#" ? "#/" : path, query };
}

/** Builds "#/search?kind=need" from a path and a query object (empty values left out). */
export function hashFor(path, query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "" || value === false) continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(name, String(v)));
    else params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function compile(pattern) {
  const names = [];
  const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/\\?:(\w+)/g, (_whole, name) => { names.push(name); return "([^/]+)"; });
  return { regex: new RegExp(`^${source}$`), names };
}

export function matchRoute(routes, path) {
  for (const route of routes) {
    route.compiled = route.compiled || compile(route.pattern);
    const found = route.compiled.regex.exec(path);
    if (found) {
      const params = {};
      route.compiled.names.forEach((name, index) => {
        try { params[name] = decodeURIComponent(found[index + 1]); } catch { params[name] = found[index + 1]; }
      });
      return { route, params };
    }
  }
  return null;
}

/**
 * The router: `start()` listens to hashchange; every navigation renders the page into a fresh
 * container inside <main> (a page still loading from an earlier navigation cannot overwrite it),
 * sets document.title and moves focus to the page's <h1>.
 */
export function createRouter({ routes, notFound, main, makeContext, siteTitle, onRendered }) {
  const registered = new WeakSet();
  let generation = 0;
  let current = null; // {controller, cleanups}

  function leave() {
    if (!current) return;
    current.controller.abort();
    for (const cleanup of current.cleanups) {
      try { cleanup(); } catch (error) { console.error(error); }
    }
    current = null;
  }

  async function show({ focus = true } = {}) {
    const mine = ++generation;
    const { path, query } = parseHash(window.location.hash);
    const found = matchRoute(routes, path);
    const load = found ? found.route.page : notFound;
    leave();
    const controller = new AbortController();
    const cleanups = [];
    current = { controller, cleanups };

    let module;
    try {
      module = await load();
    } catch (error) {
      console.error(error);
      module = await notFound();
    }
    if (mine !== generation) return;
    if (module.TEXTS && !registered.has(module)) { registerTexts(module.TEXTS); registered.add(module); }

    const container = document.createElement("div");
    container.className = "page";
    main.replaceChildren(container);
    const ctx = makeContext({ params: found ? found.params : {}, query, path, main: container,
      signal: controller.signal, onCleanup: (fn) => cleanups.push(fn) });
    ctx.isCurrent = () => mine === generation;
    try {
      await module.render(ctx);
    } catch (error) {
      if (error && error.name === "AbortError") return;
      console.error(error);
      if (mine !== generation) return;
      render(html`<h1>${t("error_title")}</h1><p class="error">${String(error && error.message || error)}</p>`,
        container);
    }
    if (mine !== generation) return;
    let pageTitle = "";
    try { pageTitle = module.title ? module.title(ctx) : ""; } catch { pageTitle = ""; }
    document.title = [pageTitle, siteTitle()].filter(Boolean).join(" – ");
    if (focus) {
      const heading = container.querySelector("h1") || main;
      if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
    if (onRendered) onRendered({ path, query, ctx });
  }

  return {
    start() {
      window.addEventListener("hashchange", () => {
        // In-page anchors like the skip link ("#view") are not routes.
        if (window.location.hash && !window.location.hash.startsWith("#/")) return;
        show();
      });
      return show();
    },
    /** Renders the current route again (language, session or municipality changed). */
    refresh: () => show({ focus: false }),
    navigate(hash, { replace = false } = {}) {
      if (replace) {
        history.replaceState(null, "", hash);
        return show();
      }
      if (window.location.hash === hash) return show();
      window.location.hash = hash; // hashchange renders
      return Promise.resolve();
    },
  };
}

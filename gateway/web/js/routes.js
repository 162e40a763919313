// The route table: the first pattern that matches the hash's path wins; `:name` is a parameter.
// Pages are loaded on first use (native dynamic import, no bundler).
export const ROUTES = [
  { pattern: "#/", page: () => import("./pages/home.js") },
  { pattern: "#/sign-in", page: () => import("./pages/sign-in.js") },
  { pattern: "#/search", page: () => import("./pages/search.js") },
  { pattern: "#/post", page: () => import("./pages/post.js") },
  { pattern: "#/offers/:id/edit", page: () => import("./pages/post.js") },
  { pattern: "#/needs/:id/edit", page: () => import("./pages/post.js") },
  { pattern: "#/offers/:id", page: () => import("./pages/item.js") },
  { pattern: "#/needs/:id", page: () => import("./pages/item.js") },
  { pattern: "#/actors/new", page: () => import("./pages/actor-edit.js") },
  { pattern: "#/actors/:id/edit", page: () => import("./pages/actor-edit.js") },
  { pattern: "#/actors/:id", page: () => import("./pages/actor.js") },
  { pattern: "#/my", page: () => import("./pages/my.js") },
  // Pages of the second client engineer (B2).
  { pattern: "#/contacts", page: () => import("./pages/contacts.js") },
  { pattern: "#/contacts/:id", page: () => import("./pages/contacts.js") },
  { pattern: "#/inbox", page: () => import("./pages/inbox.js") },
  { pattern: "#/settings", page: () => import("./pages/settings.js") },
  { pattern: "#/settings/notifications", page: () => import("./pages/settings.js") },
  { pattern: "#/me", page: () => import("./pages/me.js") },
  // Dates and shifts (issue 13).
  { pattern: "#/me/engagements", page: () => import("./pages/engagements.js") },
  { pattern: "#/me/hours", page: () => import("./pages/hours.js") },
  { pattern: "#/admin", page: () => import("./pages/admin.js") },
  { pattern: "#/admin/:section", page: () => import("./pages/admin.js") },
  { pattern: "#/operator", page: () => import("./pages/operator.js") },
  { pattern: "#/impressum", page: () => import("./pages/legal.js") },
  { pattern: "#/datenschutz", page: () => import("./pages/legal.js") },
];

export const NOT_FOUND = () => import("./pages/not-found.js");

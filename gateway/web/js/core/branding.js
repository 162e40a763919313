// A municipality's colours as CSS custom properties (set from JS: allowed by the CSP), with
// text colours chosen so that contrast stays at WCAG AA whatever colour a municipality picks.
const DEFAULT_PRIMARY = "#005ca9";
const DEFAULT_SECONDARY = "#e8f1fa";

function rgb(hex) {
  const value = /^#([0-9a-f]{6})$/i.exec(hex || "");
  if (!value) return null;
  const n = parseInt(value[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function luminance([r, g, b]) {
  const channel = (c) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

export function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const hex = (c) => `#${c.map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0")).join("")}`;
const WHITE = [255, 255, 255];
const BLACK = [0, 0, 0];

/** The colour darkened until it reaches `ratio` against white (for links and buttons). */
function darkenFor(color, ratio) {
  let c = [...color];
  for (let i = 0; i < 40 && contrast(c, WHITE) < ratio; i++) c = c.map((v) => v * 0.92);
  return c;
}

export function applyBranding(branding = {}) {
  const root = document.documentElement.style;
  const primary = rgb(branding.primary_color) || rgb(DEFAULT_PRIMARY);
  const strong = darkenFor(primary, 4.6);
  const secondary = rgb(branding.secondary_color) || rgb(DEFAULT_SECONDARY);
  root.setProperty("--brand", hex(primary));
  root.setProperty("--brand-strong", hex(strong));
  root.setProperty("--on-brand", contrast(primary, WHITE) >= 4.5 ? "#ffffff" : "#000000");
  root.setProperty("--brand-2", hex(secondary));
  root.setProperty("--on-brand-2", contrast(secondary, BLACK) >= contrast(secondary, WHITE) ? "#111111" : "#ffffff");
}

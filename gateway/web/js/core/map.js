// Leaflet, loaded as an ES module from the gateway's vendor mount. Without a tile URL the map
// shows only what the platform knows (markers, the radius, a scale): it stays usable.
import * as L from "/static/vendor/leaflet/leaflet-src.esm.js";
import { t } from "./i18n.js";

export { L };

const MARKER = { radius: 8, weight: 2, color: "#1b1f24", fillColor: "#ffffff", fillOpacity: 1 };
const MARKER_ACTIVE = { radius: 12, weight: 3, color: "#1b1f24", fillColor: "#ffbf47", fillOpacity: 1 };
const KIND_FILL = { offer: "#1f8a4c", need: "#c25e00", actor: "#005ca9" };

/** A map in `element` centred on `center` ({lat, lon}); `label` names it for screen readers. */
export function createMap(element, { center, zoom = 11, tileUrl = "", label = "" } = {}) {
  element.setAttribute("role", "region");
  if (label) element.setAttribute("aria-label", label);
  // No animations: calmer (reduced motion) and no late callbacks on a map already removed.
  const map = L.map(element, { center: [center.lat, center.lon], zoom, scrollWheelZoom: false,
    zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false });
  if (tileUrl) {
    const osm = /openstreetmap/.test(tileUrl);
    L.tileLayer(tileUrl, { maxZoom: 18,
      attribution: osm ? '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>' : "" }).addTo(map);
  } else {
    element.classList.add("map-no-tiles");
  }
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  // Leaflet measures its container once; a container that became visible or changed size later
  // needs a nudge.
  if (window.ResizeObserver) {
    const observer = new ResizeObserver(() => { if (map._loaded && map._mapPane) map.invalidateSize(); });
    observer.observe(element);
    map.on("unload", () => observer.disconnect());
  }
  return map;
}

export function markerStyle(kind, active = false) {
  return active ? MARKER_ACTIVE : { ...MARKER, fillColor: KIND_FILL[kind] || MARKER.fillColor };
}

export function pointMarker(location, kind) {
  return L.circleMarker([location.lat, location.lon], markerStyle(kind));
}

export function radiusCircle(center, radiusKm) {
  return L.circle([center.lat, center.lon], { radius: radiusKm * 1000, color: "#005ca9", weight: 2,
    fillColor: "#005ca9", fillOpacity: 0.06, dashArray: "6 6", interactive: false });
}

export function centerMarker(center) {
  return L.circleMarker([center.lat, center.lon], { radius: 5, color: "#000", weight: 2, fillColor: "#000",
    fillOpacity: 1, interactive: false });
}

export const mapLabel = () => t("map_label");

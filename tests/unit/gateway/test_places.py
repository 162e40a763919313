"""Place search: folding, ranking, the offline gazetteer (with and without postcodes), the
Photon adapter against a small local HTTP server, and the settings."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from pydantic import ValidationError

from gateway.adapters.geocoders import OfflineGazetteer, PhotonGeocoder, build_geocoder
from gateway.domain.places import fold
from gateway.ports import GeocoderUnavailable
from gateway.settings import GatewaySettings

ROWS = [{"name": "Koeln", "lat": 50.93333, "lon": 6.95, "admin2": "Regierungsbezirk Koln"},
        {"name": "Deutz", "lat": 50.93, "lon": 6.97, "admin2": "Regierungsbezirk Koln"},
        {"name": "Kalk", "lat": 50.94, "lon": 7.0, "admin2": "Regierungsbezirk Koln"},
        {"name": "Koenigshoven", "lat": 51.0, "lon": 6.5, "admin2": ""},
        {"name": "Kolnbach", "lat": 51.9, "lon": 7.5, "admin2": ""},
        {"name": "Muelheim (Ruhr)", "lat": 51.43, "lon": 6.88, "admin2": ""},
        {"name": "Dusseldorf", "lat": 51.22, "lon": 6.78, "admin2": "Regierungsbezirk Dusseldorf"}]


def test_folding_ignores_case_accents_and_umlaut_spellings():
    assert fold("Köln") == fold("koeln") == fold("KOLN") == "koln"
    assert fold("Düsseldorf") == fold("Dusseldorf")
    assert fold("  Mülheim (Ruhr) ") == "mulheim ruhr"
    assert fold("Straße") == "strasse"


async def test_gazetteer_finds_by_prefix_best_first():
    gazetteer = OfflineGazetteer(rows=lambda: ROWS, postcodes=lambda: None)
    found = await gazetteer.places("koln", limit=8)
    assert [p.name for p in found] == ["Köln", "Kolnbach"]  # exact first, then prefixes
    assert found[0].district == "Regierungsbezirk Köln" and found[0].postcode is None
    assert [p.name for p in await gazetteer.places("Kö", limit=8)] == \
        ["Köln", "Koenigshoven", "Kolnbach"]
    assert [p.name for p in await gazetteer.places("düss", limit=8)] == ["Düsseldorf"]
    assert [p.name for p in await gazetteer.places("ruhr", limit=8)] == ["Mülheim an der Ruhr"]
    assert await gazetteer.places("Bonn", limit=8) == []
    assert await gazetteer.places("50667", limit=8) == []  # no postcode data installed
    assert len(await gazetteer.places("k", limit=1)) == 1


async def test_larger_places_come_first_among_equal_matches():
    rows = ROWS + [{"name": "Kalkar", "lat": 51.74, "lon": 6.29, "admin2": ""}]
    gazetteer = OfflineGazetteer(rows=lambda: rows, postcodes=lambda: None)
    # Kalk lies among other places (a district of Köln), Kalkar alone; "Kalk" is exact anyway.
    assert [p.name for p in await gazetteer.places("kal", limit=8)] == ["Kalk", "Kalkar"]


async def test_postcodes_when_a_postcode_table_is_installed():
    table = {"50667": (50.9375, 6.9603), "80331": (48.137, 11.575)}
    gazetteer = OfflineGazetteer(rows=lambda: ROWS, postcodes=lambda: table)
    found = await gazetteer.places("50667", limit=8)
    assert [(p.name, p.postcode, p.lat) for p in found] == [("Köln", "50667", 50.9375)]
    assert await gazetteer.places("80331", limit=8) == []  # München: not in NRW
    assert await gazetteer.places("12345", limit=8) == []


class PhotonStub(BaseHTTPRequestHandler):
    requests: list = []
    answer: bytes = b""
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        PhotonStub.requests.append(urlparse(self.path))
        self.send_response(PhotonStub.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(PhotonStub.answer)

    def log_message(self, *_args):
        pass


@pytest.fixture
def photon():
    server = ThreadingHTTPServer(("127.0.0.1", 0), PhotonStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    PhotonStub.requests.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_photon_adapter_reads_geojson(photon):
    PhotonStub.status = 200
    PhotonStub.answer = json.dumps({"type": "FeatureCollection", "features": [
        {"geometry": {"type": "Point", "coordinates": [6.9578, 50.9422]},
         "properties": {"name": "Köln", "county": "Köln", "state": "Nordrhein-Westfalen",
                        "postcode": "50667", "osm_value": "city"}},
        {"geometry": {"type": "Point", "coordinates": [7.0, 51.0]}, "properties": {}},
        {"geometry": {"type": "Point", "coordinates": [6.98, 50.93]},
         "properties": {"name": "Deutz", "city": "Köln"}},
    ]}).encode()
    geocoder = PhotonGeocoder(photon, timeout_s=2)
    try:
        found = await geocoder.places("köln", limit=8)
    finally:
        await geocoder.close()
    assert [(p.name, p.district, p.lat, p.lon, p.postcode) for p in found] == [
        ("Köln", "Köln", 50.9422, 6.9578, "50667"), ("Deutz", "Köln", 50.93, 6.98, None)]
    sent = PhotonStub.requests[0]
    query = parse_qs(sent.query)
    assert sent.path == "/api" and query["q"] == ["köln"] and query["limit"] == ["8"]
    assert query["bbox"] == ["5.86,50.32,9.47,52.54"]


async def test_photon_failure_is_reported(photon):
    PhotonStub.status, PhotonStub.answer = 500, b"oops"
    geocoder = PhotonGeocoder(photon, timeout_s=2)
    with pytest.raises(GeocoderUnavailable):
        await geocoder.places("köln", limit=8)
    await geocoder.close()
    gone = PhotonGeocoder("http://127.0.0.1:9", timeout_s=1)
    with pytest.raises(GeocoderUnavailable):
        await gone.places("köln", limit=8)


def test_settings_choose_the_geocoder():
    assert isinstance(build_geocoder(GatewaySettings()), OfflineGazetteer)
    photon = GatewaySettings(geocoder="photon", geocoder_url="http://photon:2322")
    assert isinstance(build_geocoder(photon), PhotonGeocoder)
    with pytest.raises(ValidationError, match="GEOCODER_URL"):
        GatewaySettings(geocoder="photon")

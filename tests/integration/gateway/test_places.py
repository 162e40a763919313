"""Place search through the gateway with the offline gazetteer (the default)."""
from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(services):
    return services("profiles", "profiles-relay", "search", "gateway")


def test_places_are_public_prefix_and_accent_insensitive(platform):
    with httpx.Client(base_url=platform.url("gateway") + "/api/v1", timeout=30) as api:
        answer = api.get("/places", params={"q": "koln"})
        assert answer.status_code == 200, answer.text
        first = answer.json()["items"][0]
        assert first["name"] == "Köln" and first["district"] == "Regierungsbezirk Köln"
        assert abs(first["lat"] - 50.93) < 0.05 and first["postcode"] is None
        found = api.get("/places", params={"q": "Mün", "limit": 2}).json()["items"]
        assert found[0]["name"] == "Münster" and len(found) <= 2
        assert api.get("/places", params={"q": "qqqq"}).json() == {"items": []}
        for bad in ({}, {"q": ""}, {"q": "köln", "limit": 0}, {"q": "x" * 101}):
            refused = api.get("/places", params=bad)
            assert refused.status_code == 422, bad
            assert refused.json()["error"]["code"] == "validation_error"


def test_a_postcode_finds_its_area_in_nrw(platform):
    with httpx.Client(base_url=platform.url("gateway") + "/api/v1", timeout=30) as api:
        [place] = api.get("/places", params={"q": "50667"}).json()["items"]
        assert (place["name"], place["postcode"]) == ("Köln", "50667")
        assert abs(place["lat"] - 50.94) < 0.02 and abs(place["lon"] - 6.95) < 0.02
        # A Berlin postcode is outside the state: nothing, rather than a wrong place.
        assert api.get("/places", params={"q": "10115"}).json() == {"items": []}

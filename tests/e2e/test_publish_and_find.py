"""The first journey through the gateway on the real stack: a municipality joins, an association
posts what it needs, a volunteer finds it near home; bad input changes nothing."""
from __future__ import annotations

import math
import time

import pytest

from tests.support.api import PublicApi, item_body, unique
from tests.support.kafka import read_topic
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.e2e
MUENSTER = {"lat": 51.9607, "lon": 7.6261}


def km_north(point: dict, km: float) -> dict:
    return {"lat": point["lat"] + km / 111.2, "lon": point["lon"]}


@pytest.fixture(scope="module")
def stack(services):
    return services("profiles", "profiles-relay", "search", "notifications", "gateway")


@pytest.fixture(scope="module")
def api(stack):
    client = PublicApi(stack.url("gateway"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def association(api):
    tenant = api.new_tenant("Münster", MUENSTER)
    headers = api.login(unique("verein-admin"), tenant, "org_admin")
    actor_id = api.new_actor(headers, type="association", name="Bürgerverein Kreuzviertel e. V.",
                             location=MUENSTER)
    return tenant, headers, actor_id


def test_a_need_is_found_by_radius_updated_and_gone_when_closed(api, association):
    tenant, headers, actor_id = association
    near = api.http.post("/needs", json=item_body(actor_id, km_north(MUENSTER, 1),
                                                  title="Helfende Hände für das Stadtteilfest"),
                         headers=headers)
    assert near.status_code == 201, near.text
    far = api.http.post("/needs", json=item_body(actor_id, km_north(MUENSTER, 30),
                                                 title="Fahrdienst zum Wochenmarkt"),
                        headers=headers)
    assert far.status_code == 201, far.text
    near_id, far_id = near.json()["id"], far.json()["id"]
    volunteer = api.login(unique("volunteer"), tenant)
    here = {"kind": "need", "lat": MUENSTER["lat"], "lon": MUENSTER["lon"]}

    published = time.monotonic()
    eventually_sync(lambda: near_id in api.search_ids(volunteer, **here, radius_km=10),
                    timeout_s=10, message="the new need in radius search")
    print(f"searchable after {time.monotonic() - published:.2f} s")
    results = api.http.get("/search", params={**here, "radius_km": 10}, headers=volunteer).json()
    hit = next(item for item in results["items"] if item["id"] == near_id)
    assert math.isclose(hit["distance_km"], 1.0, abs_tol=0.1)
    assert far_id not in api.search_ids(volunteer, **here, radius_km=10), "30 km away is not within 10 km"
    eventually_sync(lambda: far_id in api.search_ids(volunteer, **here, radius_km=40),
                    timeout_s=10, message="the far need within 40 km")

    patched = api.http.patch(f"/needs/{near_id}", json={
        "title": "Helfende Hände für das Kreuzviertelfest", "version": near.json()["version"]},
        headers=headers)
    assert patched.status_code == 200, patched.text
    eventually_sync(lambda: api.search_ids(volunteer, **here, radius_km=10, q="Kreuzviertelfest"),
                    timeout_s=10, message="the changed title in search")
    stale = api.http.patch(f"/needs/{near_id}", json={"title": "Zu spät", "version": 1},
                           headers=headers)
    assert stale.status_code == 409

    closed = api.http.delete(f"/needs/{near_id}", headers=headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    eventually_sync(lambda: near_id not in api.search_ids(volunteer, **here, radius_km=10),
                    timeout_s=10, message="the closed need leaving search")


BAD_INPUTS = [
    ("empty title", {"title": ""}, "title"),
    ("unknown category", {"categories": ["astrology"]}, "categories"),
    ("latitude 100", {"location": {"lat": 100, "lon": 7.6}}, "location.lat"),
    ("negative radius", {"radius_km": -5}, "radius_km"),
    ("end before start", {"schedule": {"dates": [{"start": "2027-05-02T10:00:00+02:00",
                                                  "end": "2027-05-02T09:00:00+02:00"}],
                                       "weekly": []}}, "schedule.dates.0"),
    ("wrong type", {"capacity": "viele"}, "capacity"),
]


@pytest.mark.parametrize("case,change,field", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_with_the_field_and_changes_nothing(stack, api, association, case,
                                                                 change, field):
    tenant, headers, actor_id = association
    marker = unique("marker")
    body = {**item_body(actor_id, MUENSTER, title=f"Prüfung {marker}"), **change}
    answer = api.http.post("/needs", json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error" and error["message"]
    assert any(detail["field"].startswith(field) and detail["message"] for detail in error["details"]), error

    mine = api.http.get("/needs", params={"actor_id": actor_id}, headers=headers).json()
    assert all(marker not in item["title"] for item in mine["items"]), "nothing was stored"


def test_malformed_json_is_400_and_nothing_reaches_the_topic(stack, api, association):
    import asyncio

    tenant, headers, actor_id = association
    answer = api.http.post("/needs", content=b'{"title": "Halb', headers={
        **headers, "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "malformed_json"
    # No event of a refused request was published: every item event on the topic is valid.
    records = asyncio.run(read_topic(stack.kafka_bootstrap, "items", min_count=1, timeout_s=10))
    assert all(b"Pr\\u00fcfung marker" not in r.value and "Prüfung marker".encode() not in r.value
               for r in records)

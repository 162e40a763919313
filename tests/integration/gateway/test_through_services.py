"""Through the gateway to the real services: tenant isolation, a stopped service, merged docs."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.integration.gateway.support import bearer

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def platform(services):
    return services("profiles", "profiles-relay", "search", "matching", "notifications", "gateway")


@pytest.fixture
def api(platform):
    with httpx.Client(base_url=platform.url("gateway") + "/api/v1", timeout=20) as client:
        yield client


def login(api: httpx.Client, sub: str, tenant: str, *roles: str) -> dict[str, str]:
    answer = api.post("/auth/dev-token", json={"sub": sub, "tenant": tenant,
                                               "roles": list(roles or ("member",))})
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])


def new_tenant(api: httpx.Client, centre: dict) -> str:
    tenant = unique("t")
    operator = login(api, "land-operator", "land", "operator")
    created = api.post("/tenants", json={"id": tenant, "name": f"Stadt {tenant}",
                                         "center": centre}, headers=operator)
    assert created.status_code == 201, created.text
    return tenant


def eventually(check, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


def need_body(actor_id: str, place: dict, **overrides) -> dict:
    return {"actor_id": actor_id, "title": "Vorlesepatin für unsere Kita gesucht",
            "description": "Einmal pro Woche vorlesen.", "categories": ["children_youth"],
            "engagement": "regular", "location": place, "radius_km": 10,
            "visibility": "tenant", **overrides}


def test_members_of_one_tenant_can_neither_change_nor_find_anothers_items(api):
    centre_a, centre_b = {"lat": 51.96, "lon": 7.63}, {"lat": 50.73, "lon": 7.10}
    tenant_a, tenant_b = new_tenant(api, centre_a), new_tenant(api, centre_b)
    anna = login(api, unique("anna"), tenant_a)
    bob = login(api, unique("bob"), tenant_b)
    # Only operators onboard municipalities: refused by the gateway itself.
    assert api.post("/tenants", json={"id": unique("tx"), "name": "X", "center": centre_a},
                    headers=anna).status_code == 403

    bobs_actor = api.post("/actors", json={"type": "education", "name": "Kita Sonnenschein",
                                           "email": "kita@example.org", "location": centre_b},
                          headers=bob)
    assert bobs_actor.status_code == 201, bobs_actor.text
    need = api.post("/needs", json=need_body(bobs_actor.json()["id"], centre_b), headers=bob)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]

    # Anna cannot change, close, hide or post in the name of Bob's Kita.
    patch = api.patch(f"/needs/{need_id}", json={"title": "Übernommen", "version": 1},
                      headers=anna)
    assert patch.status_code in (403, 404), patch.text
    assert api.delete(f"/needs/{need_id}", headers=anna).status_code in (403, 404)
    assert api.post(f"/needs/{need_id}/hide", json={"reason": "spam"},
                    headers=anna).status_code == 403
    foreign_post = api.post("/offers", json=need_body(bobs_actor.json()["id"], centre_b),
                            headers=anna)
    assert foreign_post.status_code in (403, 404), foreign_post.text
    assert api.get(f"/needs/{need_id}", headers=anna).status_code in (403, 404)
    assert api.get(f"/needs/{need_id}").status_code in (401, 403, 404)
    assert api.get(f"/needs/{need_id}", headers=bob).json()["title"] == need.json()["title"]

    query = {"kind": "need", "lat": centre_b["lat"], "lon": centre_b["lon"], "radius_km": 20}

    def found_by(headers: dict | None) -> bool:
        answer = api.get("/search", params=query, headers=headers or {})
        assert answer.status_code == 200, answer.text
        return any(item["id"] == need_id for item in answer.json()["items"])

    assert eventually(lambda: found_by(bob)), "the owner's tenant finds the item"
    assert not found_by(anna), "a tenant-only item is invisible to other tenants"
    assert not found_by(None), "and to anonymous visitors"


def test_export_merges_every_service_and_erasure_empties_it(api):
    person = login(api, unique("clara"), new_tenant(api, {"lat": 51.51, "lon": 7.46}))
    actor = api.post("/actors", json={"type": "person", "name": "Clara Beispiel",
                                      "email": "clara@example.org",
                                      "location": {"lat": 51.51, "lon": 7.46}}, headers=person)
    assert actor.status_code == 201, actor.text
    export = api.get("/me/export", headers=person)
    assert export.status_code == 200, export.text
    document = export.json()
    assert {"profiles", "notifications", "subject", "exported_at"} <= set(document)
    assert [a["id"] for a in document["profiles"]["actors"]] == [actor.json()["id"]]
    assert api.delete("/me", headers=person).status_code == 200
    assert api.get("/me/export", headers=person).json()["profiles"]["actors"] == []


def test_a_stopped_search_service_gives_503_then_recovers(platform, api):
    platform.kill("search")
    try:
        started = time.monotonic()
        response = api.get("/search", params={"lat": 51.0, "lon": 7.0, "radius_km": 10})
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "service_unavailable" and "search" in error["message"]
        assert time.monotonic() - started < 12
        assert api.get("/categories").status_code == 200, "the rest keeps working"
    finally:
        platform.start_service("search")
    assert api.get("/search", params={"lat": 51.0, "lon": 7.0, "radius_km": 10}).status_code \
        == 200


def test_merged_openapi_describes_the_real_services(platform):
    document = httpx.get(platform.url("gateway") + "/api/openapi.json", timeout=20).json()
    paths = document["paths"]
    offer = paths["/api/v1/offers/{id}"]["get"]
    assert [p["name"] for p in offer.get("parameters", []) if p["in"] == "path"] == ["id"]
    assert not any(p["name"].lower().startswith("x-auth") for p in offer.get("parameters", []))
    search = paths["/api/v1/search"]["get"]
    assert {"kind", "lat", "lon", "radius_km", "category", "q", "cursor"} <= \
        {p["name"] for p in search["parameters"]}
    assert not any(path.startswith("/api/v1/internal") for path in paths)
    assert not any("/internal/" in path for path in paths)
    assert "profiles" not in document["info"].get("x-services-unavailable", [])
    assert "search" not in document["info"].get("x-services-unavailable", [])

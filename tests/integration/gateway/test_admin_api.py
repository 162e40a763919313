"""Moderation and statistics through the gateway: roles, tenant scope, CSV download."""
from __future__ import annotations

import httpx
import pytest

from tests.integration.gateway.test_through_services import login, need_body, new_tenant

pytestmark = pytest.mark.integration
PLACE = {"lat": 51.9435, "lon": 7.1681}


@pytest.fixture(scope="module")
def platform(services):
    return services("profiles", "profiles-relay", "search", "gateway")


@pytest.fixture
def api(platform):
    with httpx.Client(base_url=platform.url("gateway") + "/api/v1", timeout=20) as client:
        yield client


def test_moderation_and_stats_through_the_gateway(api):
    tenant = new_tenant(api, PLACE)
    owner = login(api, "kita-leitung", tenant)
    actor = api.post("/actors", json={"type": "education", "name": "Kita Sonnenschein",
                                      "email": "kita@example.org", "location": PLACE},
                     headers=owner).json()
    need = api.post("/needs", json=need_body(actor["id"], PLACE), headers=owner).json()
    admin = login(api, "rathaus", tenant, "tenant_admin")
    member = login(api, "nachbar", tenant)

    assert api.post(f"/needs/{need['id']}/hide", json={"reason": "Doppelt eingestellt"},
                    headers=admin).status_code == 200
    own = api.get(f"/needs/{need['id']}", headers=owner).json()
    assert own["status"] == "hidden" and own["hidden_reason"] == "Doppelt eingestellt"
    assert api.get(f"/needs/{need['id']}", headers=member).status_code == 404

    queue = api.get("/moderation/items", headers=admin)
    assert queue.status_code == 200, queue.text
    assert [i["id"] for i in queue.json()["items"]] == [need["id"]]
    assert queue.json()["next_cursor"] is None
    assert api.get("/moderation/items", headers=member).status_code == 403
    assert api.get("/moderation/items").status_code == 401
    assert api.post(f"/needs/{need['id']}/unhide", headers=member).status_code == 403
    back = api.post(f"/needs/{need['id']}/unhide", headers=admin)
    assert back.status_code == 200 and back.json()["status"] == "published"
    assert api.get(f"/needs/{need['id']}", headers=member).status_code == 200

    stats = api.get(f"/tenants/{tenant}/stats", headers=admin)
    assert stats.status_code == 200, stats.text
    assert stats.json()["tenant"] == tenant
    assert stats.json()["totals"]["items_published"] == 1
    assert stats.json()["by_category"][0]["category"] == "children_youth"
    for headers, params in (({**admin, "Accept": "text/csv"}, {}), (admin, {"format": "csv"})):
        download = api.get(f"/tenants/{tenant}/stats", headers=headers, params=params)
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.text.splitlines()[0].startswith("dimension,value,items_published")
    assert api.get(f"/tenants/{tenant}/stats", headers=member).status_code == 403
    other_admin = login(api, "rathaus", "anderswo", "tenant_admin")
    assert api.get(f"/tenants/{tenant}/stats", headers=other_admin).status_code == 403


def test_branding_and_legal_texts_of_a_municipality(api):
    tenant = new_tenant(api, PLACE)
    admin = login(api, "rathaus", tenant, "tenant_admin")
    current = api.get(f"/tenants/{tenant}").json()
    body = {"version": current["version"], "branding": {
        "primary_color": "#005CA9", "text_color": "#1a1a1a", "background_color": "#ffffff",
        "logo_url": "https://stadt.example/logo.svg",
        "welcome_text": {"de": "Willkommen!", "en": "Welcome!"},
        "impressum": {"de": "Stadt Testhausen, Rathaus", "en": "Town of Testhausen"},
        "datenschutz": {"de": "Wir schützen Ihre Daten.", "en": "We protect your data."}}}
    changed = api.patch(f"/tenants/{tenant}", json=body, headers=admin)
    assert changed.status_code == 200, changed.text
    branding = api.get(f"/tenants/{tenant}").json()["branding"]  # public
    assert branding["primary_color"] == "#005ca9"
    assert branding["impressum"]["de"] == "Stadt Testhausen, Rathaus"
    assert branding["welcome_text"]["en"] == "Welcome!"

    unreadable = api.patch(f"/tenants/{tenant}", headers=admin, json={
        "version": changed.json()["version"], "branding": {"text_color": "#aaaaaa"}})
    assert unreadable.status_code == 422
    error = unreadable.json()["error"]
    assert error["details"][0]["field"] == "branding.text_color"
    assert "2.32:1" in error["details"][0]["message"] and "2.32:1" in error["message"]
    other = login(api, "rathaus", "anderswo", "tenant_admin")
    assert api.patch(f"/tenants/{tenant}", headers=other, json={
        "version": changed.json()["version"], "branding": {"text_color": "#000000"}}
    ).status_code == 403
    member = login(api, "buerger", tenant)
    assert api.patch(f"/tenants/{tenant}", headers=member, json={
        "version": changed.json()["version"], "branding": {"text_color": "#000000"}}
    ).status_code == 403

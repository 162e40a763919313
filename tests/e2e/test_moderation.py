"""Moderation end to end: a tenant admin hides an item with a reason; its owner sees the reason
on the item and is told in the inbox and by e-mail; nobody else finds it until it is shown again."""
from __future__ import annotations

import httpx
import pytest

from tests.support.api import PublicApi, item_body, unique
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.e2e
BORKEN = {"lat": 51.8437, "lon": 6.8578}
REASON = "Der Eintrag wirbt für ein Gewerbe."


@pytest.fixture(scope="module")
def api(stack):
    client = PublicApi(stack.url("gateway"))
    yield client
    client.close()


def test_a_hidden_item_tells_its_owner_why_and_is_found_again_once_shown(stack, api):
    tenant = api.new_tenant("Borken", BORKEN)
    owner_mail = f"{unique('verein')}@example.org"
    owner = api.login(unique("verein-admin"), tenant, "org_admin")
    admin = api.login(unique("admin"), tenant, "tenant_admin")
    visitor = api.login(unique("visitor"), tenant)
    club = api.new_actor(owner, type="association", name="Kleiderkammer Borken",
                         location=BORKEN, email=owner_mail)
    need = api.http.post("/needs", json=item_body(club, BORKEN, title="Helfende für die Kleiderkammer"),
                         headers=owner)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    eventually_sync(lambda: need_id in api.search_ids(kind="need", lat=BORKEN["lat"],
                                                      lon=BORKEN["lon"], radius_km=5),
                    timeout_s=60, message="the need in search")

    assert api.http.post(f"/needs/{need_id}/hide", json={"reason": REASON},
                         headers=visitor).status_code == 403
    hidden = api.http.post(f"/needs/{need_id}/hide", json={"reason": REASON}, headers=admin)
    assert hidden.status_code == 200, hidden.text

    seen_by_owner = api.http.get(f"/needs/{need_id}", headers=owner).json()
    assert (seen_by_owner["status"], seen_by_owner["hidden_reason"]) == ("hidden", REASON)
    assert api.http.get(f"/needs/{need_id}", headers=visitor).status_code == 404
    queue = api.http.get("/moderation/items", params={"status": "hidden"}, headers=admin).json()
    assert need_id in [item["id"] for item in queue["items"]]

    def told():
        inbox = api.http.get("/me/notifications", headers=owner).json()["items"]
        return [n for n in inbox if n["type"] == "item.hidden"]
    [notice] = eventually_sync(told, timeout_s=60, message="the owner's inbox entry")
    assert REASON in notice["body"]["de"] and notice["data"]["item_id"] == need_id
    mails = eventually_sync(
        lambda: httpx.get(stack.url("mail_http") + "/api/messages",
                          params={"to": owner_mail}).json(), timeout_s=60, message="the e-mail")
    assert any(REASON in mail["text"] and f"/#/needs/{need_id}" in mail["text"] for mail in mails)
    eventually_sync(lambda: need_id not in api.search_ids(kind="need", lat=BORKEN["lat"],
                                                          lon=BORKEN["lon"], radius_km=5),
                    timeout_s=60, message="the hidden need gone from search")

    shown = api.http.post(f"/needs/{need_id}/unhide", headers=admin)
    assert shown.status_code == 200, shown.text
    eventually_sync(lambda: need_id in api.search_ids(kind="need", lat=BORKEN["lat"],
                                                      lon=BORKEN["lon"], radius_km=5),
                    timeout_s=60, message="the need back in search")

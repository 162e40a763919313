"""An organisation pauses its need for a while (nobody finds it, no new suggestions) and
publishes it again, on the need's page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SLOW_MS, open_route
from tests.support.api import item_body, unique
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.browser
HERTEN = {"lat": 51.5952, "lon": 7.1411}


def test_an_owner_pauses_a_need_and_publishes_it_again(page, people, api, sign_in, check_axe,
                                                       shoot):
    tenant = people.tenant("Herten", HERTEN)
    owner = people.person("association", tenant, location=HERTEN)
    title = f"Helfende für das Stadtteilfest {unique('n')}"
    need = api.http.post("/needs", json=item_body(owner.actor_id, HERTEN, title=title),
                         headers=owner.headers)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    here = {"kind": "need", "lat": HERTEN["lat"], "lon": HERTEN["lon"], "radius_km": 10}

    def searchable() -> bool:
        return need_id in api.search_ids(**here)
    eventually_sync(searchable, timeout_s=60, interval_s=0.5, message="the need in search")

    sign_in(page, owner)
    open_route(page, f"#/needs/{need_id}")
    page.get_by_role("button", name="Pausieren").click()
    expect(page.get_by_text("Der Eintrag ist pausiert")).to_be_visible(timeout=SLOW_MS)
    expect(page.locator("#status")).to_contain_text("Eintrag pausiert")
    check_axe(page, "a paused need")
    shoot(page, "need-paused-owner")
    eventually_sync(lambda: not searchable(), timeout_s=60, interval_s=0.5,
                    message="the paused need gone from search")

    page.get_by_role("button", name="Wieder veröffentlichen").click()
    expect(page.get_by_role("button", name="Pausieren")).to_be_visible(timeout=SLOW_MS)
    eventually_sync(searchable, timeout_s=60, interval_s=0.5, message="the need back in search")


def test_an_owner_publishes_an_expired_weekly_need_again(page, people, api, stack, sign_in,
                                                         check_axe, shoot):
    """A weekly need lapses 180 days after its last change; its owner sees why on its page and
    publishes it again for another 180 days. Half a year cannot pass in a test: the need is
    aged in the store and the relay's expiry (every ~30 s) ends it."""
    from datetime import datetime, timedelta, timezone

    from pymongo import MongoClient

    tenant = people.tenant("Herten", HERTEN)
    owner = people.person("association", tenant, location=HERTEN)
    weekly = {"dates": [], "weekly": [{"day": "sat", "start": "09:00", "end": "12:00"}]}
    title = f"Helfende für den Repair-Samstag {unique('n')}"
    need = api.http.post("/needs", json={**item_body(owner.actor_id, HERTEN, title=title),
                                         "schedule": weekly}, headers=owner.headers)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    with MongoClient(stack.mongo_uri_for("profiles")) as client:
        client["profiles"].items.update_one(
            {"_id": need_id},
            {"$set": {"expires_at": datetime.now(timezone.utc) - timedelta(minutes=1)}})

    def status() -> str:
        return api.http.get(f"/needs/{need_id}", headers=owner.headers).json()["status"]
    eventually_sync(lambda: status() == "expired", timeout_s=120, interval_s=1,
                    message="the relay to expire the aged need")

    sign_in(page, owner)
    open_route(page, f"#/needs/{need_id}")
    expect(page.get_by_text("Der Eintrag ist abgelaufen")).to_be_visible(timeout=SLOW_MS)
    check_axe(page, "an expired weekly need")
    shoot(page, "need-expired-owner")
    page.get_by_role("button", name="Wieder veröffentlichen").click()
    expect(page.locator("#status")).to_contain_text("Eintrag wieder veröffentlicht")
    expect(page.get_by_role("button", name="Pausieren")).to_be_visible(timeout=SLOW_MS)
    renewed = api.http.get(f"/needs/{need_id}", headers=owner.headers).json()
    assert renewed["status"] == "published"
    ends = datetime.fromisoformat(renewed["expires_at"])
    assert ends > datetime.now(timezone.utc) + timedelta(days=179)

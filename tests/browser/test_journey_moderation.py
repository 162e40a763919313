"""Journey 3: a municipality's admin hides an item with a reason in the moderation page; its owner
sees the reason on the item's page, and the item leaves the search."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SLOW_MS, open_route
from tests.support.api import item_body, unique
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.browser
GLADBECK = {"lat": 51.5709, "lon": 6.9850}


def test_tenant_admin_hides_an_item_and_its_owner_sees_why(new_page, people, api, sign_in,
                                                           check_axe, shoot):
    tenant = people.tenant("Gladbeck", GLADBECK)
    owner = people.person("association", tenant, location=GLADBECK)
    title = f"Trödelmarkt für einen guten Zweck {unique('n')}"
    need = api.http.post("/needs", json=item_body(owner.actor_id, GLADBECK, title=title),
                         headers=owner.headers)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    volunteer = people.person("volunteer", tenant, location=GLADBECK)
    here = {"kind": "need", "lat": GLADBECK["lat"], "lon": GLADBECK["lon"], "radius_km": 10}
    eventually_sync(lambda: need_id in api.search_ids(volunteer.headers, **here), timeout_s=60,
                    interval_s=0.5, message="the need in search")

    # ---- the admin hides it ----------------------------------------------------------------------
    admin_page = new_page()
    sign_in(admin_page, "tenant_admin", tenant)
    open_route(admin_page, "#/admin")
    expect(admin_page.get_by_role("link", name="Moderation").first).to_be_visible()
    check_axe(admin_page, "#/admin")
    open_route(admin_page, "#/admin/moderation")
    entry = admin_page.locator(".moderation-item").filter(
        has=admin_page.get_by_role("link", name=title))
    expect(entry).to_be_visible(timeout=SLOW_MS)
    check_axe(admin_page, "#/admin/moderation")
    # No reason, no hiding: the field is marked and the item stays published.
    reason_field = entry.get_by_label("Grund für das Ausblenden")
    entry.get_by_role("button", name="Ausblenden").click()
    expect(reason_field).to_have_attribute("aria-invalid", "true")
    assert api.http.get(f"/needs/{need_id}", headers=owner.headers).json()["status"] == "published"
    reason = "Gewerbliches Angebot, kein Ehrenamt"
    reason_field.fill(reason)
    entry.get_by_role("button", name="Ausblenden").click()
    expect(entry).to_contain_text(f"Ausgeblendet wegen: {reason}", timeout=SLOW_MS)
    expect(entry.get_by_role("button", name="Wieder einblenden")).to_be_visible()
    check_axe(admin_page, "#/admin/moderation (hidden)")
    shoot(admin_page, "moderation-hidden")
    stored = api.http.get(f"/needs/{need_id}", headers=owner.headers).json()
    assert stored["status"] == "hidden", stored

    # ---- the owner sees the reason -------------------------------------------------------------
    owner_page = new_page()
    sign_in(owner_page, owner)
    open_route(owner_page, f"#/needs/{need_id}")
    expect(owner_page.get_by_role("heading", level=1)).to_have_text(title)
    expect(owner_page.locator("main").get_by_text(
        f"Von der Moderation ausgeblendet. Grund: {reason}")).to_be_visible()
    check_axe(owner_page, "#/needs/<id> (hidden, owner)")
    shoot(owner_page, "need-hidden-owner")
    open_route(owner_page, "#/my")
    expect(owner_page.locator("main")).to_contain_text(title)
    expect(owner_page.locator("main")).to_contain_text(re.compile("ausgeblendet", re.I))
    check_axe(owner_page, "#/my (a hidden item)")

    # ---- and it is gone from the search ------------------------------------------------------------
    eventually_sync(lambda: need_id not in api.search_ids(volunteer.headers, **here), timeout_s=60,
                    interval_s=0.5, message="the hidden need leaving search")
    assert not admin_page.problems and not owner_page.problems, \
        admin_page.problems + owner_page.problems

"""A Verein publishes a need that two offers of a volunteer fit at once: its inbox shows one
notification ("2 neue Vorschläge …") that lists both suggestions, each with its own fit and its
own explanation, on a phone as on a desktop."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SLOW_MS, north_of, open_route
from tests.support.api import item_body, unique
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.browser
GLADBECK = {"lat": 51.5713, "lon": 6.9856}


def test_a_burst_of_suggestions_is_one_notification_listing_each(
        new_page, people, api, sign_in, check_axe, shoot):
    tenant = people.tenant("Gladbeck", GLADBECK)
    verein = people.person("association", tenant, location=GLADBECK)
    volunteer = people.person("volunteer", tenant, location=north_of(GLADBECK, 1))
    offers = []
    for title in (f"Ich lese gern vor {unique('o')}", f"Vorlesen am Samstag {unique('o')}"):
        posted = api.http.post("/offers", json=item_body(
            volunteer.actor_id, north_of(GLADBECK, 1), title=title, categories=["education"],
            skills=["vorlesen"]), headers=volunteer.headers)
        assert posted.status_code == 201, posted.text
        offers.append(posted.json())
    here = {"kind": "offer", "lat": GLADBECK["lat"], "lon": GLADBECK["lon"], "radius_km": 5}
    eventually_sync(lambda: {o["id"] for o in offers} <= set(api.search_ids(**here)),
                    timeout_s=60, interval_s=0.5, message="both offers published")
    # One item event (the need) makes both pairs: they come within one coalescing window.
    need = api.http.post("/needs", json=item_body(
        verein.actor_id, GLADBECK, title=f"Lesepaten für die Stadtbücherei {unique('n')}",
        categories=["education"], skills=["vorlesen"]), headers=verein.headers)
    assert need.status_code == 201, need.text

    seen: list[str] = []

    def coalesced() -> bool:
        notes = api.http.get("/me/notifications", headers=verein.headers).json()["items"]
        seen[:] = [f"{note['created_at']} {len(note['data'].get('pairs', []))} pairs"
                   for note in notes]
        return any(len(note["data"].get("pairs", [])) == 2 for note in notes)
    try:
        eventually_sync(coalesced, timeout_s=60, interval_s=0.5,
                        message="one notification for both new suggestions")
    except AssertionError as error:
        raise AssertionError(f"{error}; the Verein's notifications: {seen}") from None

    page = new_page(PHONE)
    sign_in(page, verein)
    open_route(page, "#/inbox")
    note = page.locator("li.notification").filter(has_text="2 neue Vorschläge")
    expect(note).to_be_visible(timeout=SLOW_MS)
    pairs = note.locator("ol.coalesced-pairs > li")
    expect(pairs).to_have_count(2)
    for offer in offers:
        expect(note.get_by_role("link", name=offer["title"])).to_be_visible()
    expect(note.get_by_text(re.compile(r"Passung: \d+ %"))).to_have_count(2)
    why = note.locator("summary", has_text="Warum dieser Vorschlag?")
    expect(why).to_have_count(2)
    why.nth(1).click()
    expect(pairs.nth(1).locator(".reason-list li").first).to_be_visible()
    expect(pairs.nth(0).locator(".reason-list")).to_be_hidden()
    check_axe(page, "an inbox with a coalesced notification")
    shoot(page, "inbox-coalesced")

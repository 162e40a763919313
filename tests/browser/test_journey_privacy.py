"""A private person posts an offer in the browser: the form does not silently use their home.

Without a chosen place the offer sits at the home's coarse point (about 1 km) and the form says
so; what others see of it is coarse, and the person still sees where they put it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from platform_common.privacy import coarse_point
from tests.browser.conftest import SLOW_MS, open_route
from tests.support.api import unique

pytestmark = pytest.mark.browser
HOME = {"lat": 51.6612345, "lon": 7.0987654}  # somewhere in Marl


def test_a_persons_first_offer_does_not_publish_the_home(new_page, people, api, sign_in, check_axe,
                                                          shoot):
    tenant = people.tenant("Marl", {"lat": 51.6566, "lon": 7.0900})
    page = new_page()
    volunteer = sign_in(page, "volunteer", tenant, location=HOME)
    open_route(page, "#/post")
    page.get_by_role("radio", name=re.compile("Ein Angebot")).check()
    expect(page.locator("#p-location-note")).to_contain_text("auf etwa 1 km gerundet")
    expect(page.locator("#p-privacy-hint")).to_contain_text("nur einen ungefähren Ort")
    check_axe(page, "#/post (person)")
    shoot(page, "post-offer-person")
    title = f"Ich gehe mit Hunden aus dem Tierheim spazieren {unique('o')}"
    page.get_by_label("Titel", exact=True).fill(title)
    page.get_by_role("checkbox", name="Tierschutz").check()
    page.get_by_role("button", name="Veröffentlichen").click()

    expect(page).to_have_url(re.compile(r"#/offers/[^/?]+$"), timeout=SLOW_MS)
    offer_id = page.url.rsplit("/", 1)[-1]
    expect(page.locator("main")).to_contain_text("andere sehen den Ort nur ungefähr")
    shoot(page, "offer-person-owner")
    stored = api.http.get(f"/offers/{offer_id}", headers=volunteer.headers).json()
    assert stored["location"] == coarse_point(**HOME)  # the home itself never left the browser
    neighbour = people.person("volunteer", tenant, with_actor=False)
    assert api.http.get(f"/offers/{offer_id}", headers=neighbour.headers).json()[
        "location"] == coarse_point(**HOME)

"""Journey 2: the contact flow with the keyboard alone (Tab, Enter, Space and typing; no mouse):
a volunteer searches, opens a need, asks for contact; the Verein accepts; both see the details."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SLOW_MS, open_route, tab_to
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.browser
DORSTEN = {"lat": 51.6604, "lon": 6.9647}


def test_contact_request_and_acceptance_by_keyboard_alone(new_page, matched_pair, sign_in, api,
                                                          check_axe, shoot):
    pair = matched_pair("Dorsten", DORSTEN)
    title = pair.need["title"]
    word = title.rsplit(" ", 1)[-1]  # the unique part of the title
    eventually_sync(lambda: pair.need["id"] in api.search_ids(
        pair.volunteer.headers, kind="need", lat=DORSTEN["lat"], lon=DORSTEN["lon"], radius_km=25,
        q=word), timeout_s=60, interval_s=0.5, message="the need in search")

    # ---- the volunteer: skip link, search, result, contact form ----------------------------------
    page = new_page()
    sign_in(page, pair.volunteer)
    open_route(page, "#/search")
    # The router put the focus on the page's heading; the skip link is first in the tab order.
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    tab_to(page, skip, backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator("#view")).to_be_focused()

    words = page.get_by_label("Suchbegriffe")
    tab_to(page, words)
    page.keyboard.type(word)
    page.keyboard.press("Enter")
    result = page.get_by_role("link", name=title)
    expect(result).to_be_visible(timeout=SLOW_MS)
    tab_to(page, result)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"#/needs/{re.escape(pair.need['id'])}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    mine = page.get_by_label("Mit welchem Ihrer Angebote?")
    expect(mine).to_contain_text(pair.offer["title"], timeout=SLOW_MS)
    tab_to(page, mine)
    message = page.get_by_label("Nachricht", exact=True)
    tab_to(page, message)
    page.keyboard.type("Ich lese samstags gern vor.")
    send = page.get_by_role("button", name="Anfrage senden")
    tab_to(page, send)
    page.keyboard.press("Enter")
    done = page.locator("main").get_by_text("Ihre Kontaktanfrage wurde gesendet.")
    expect(done).to_be_visible(timeout=SLOW_MS)
    expect(page.locator("#i-contact-done")).to_be_focused()
    check_axe(page, "#/needs/<id> after the request (keyboard)")
    shoot(page, "keyboard-contact-sent")

    # ---- the Verein accepts with the space bar ---------------------------------------------------
    verein_page = new_page()
    sign_in(verein_page, pair.verein)
    open_route(verein_page, "#/contacts")
    card = verein_page.locator(".contact-card").filter(
        has=verein_page.get_by_role("heading", name=re.compile(re.escape(pair.volunteer.name))))
    accept = card.get_by_role("button", name="Annehmen")
    expect(accept).to_be_visible(timeout=SLOW_MS)
    tab_to(verein_page, accept)
    shoot(verein_page, "keyboard-accept")
    verein_page.keyboard.press(" ")
    expect(card.get_by_role("heading", name="Kontaktdaten")).to_be_visible(timeout=SLOW_MS)
    expect(card.get_by_role("heading", level=3)).to_be_focused()
    email = card.get_by_role("link", name=re.compile(re.escape(pair.volunteer.email)))
    expect(email).to_be_visible()
    tab_to(verein_page, email)
    check_axe(verein_page, "#/contacts after accepting (keyboard)")

    # ---- the volunteer sees the Verein's details ---------------------------------------------------
    open_route(page, "#/contacts")
    sent = page.locator(".contact-card").filter(
        has=page.get_by_role("heading", name=re.compile(re.escape(pair.verein.name))))
    expect(sent).to_contain_text("angenommen", timeout=SLOW_MS)
    verein_mail = sent.get_by_role("link", name=re.compile(re.escape(pair.verein.email)))
    tab_to(page, verein_mail)
    assert not page.problems and not verein_page.problems, page.problems + verein_page.problems

"""Journey 1, in the browser: a Verein publishes a need with a weekly schedule and skills, placing it
by place search; a volunteer finds it on the map within 10 km (its marker and its list entry),
opens it and asks for contact; the Verein accepts; both see each other's contact details; the
link in the notification e-mail opens the need's page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SLOW_MS, links_in, north_of, open_route
from tests.support.api import item_body, unique
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.browser
BOCHOLT = {"lat": 51.8388, "lon": 6.6151}
# map.js: the marker of the list entry under the pointer is drawn in this fill colour.
ACTIVE_MARKER_FILL = "#ffbf47"


def pick_place(page, field_name: str, place: str) -> None:
    """Types into a place combobox (core/places.js) and chooses the first suggestion."""
    field = page.get_by_role("combobox", name=field_name, exact=True)
    field.fill("")
    field.press_sequentially(place, delay=30)
    suggestions = page.get_by_role("listbox", name=field_name, exact=True)
    option = suggestions.get_by_role("option", name=re.compile(rf"^{re.escape(place)}")).first
    expect(option).to_be_visible(timeout=SLOW_MS)
    option.click()
    expect(field).to_have_value(re.compile(rf"^{re.escape(place)}"))


def test_verein_publishes_volunteer_finds_asks_verein_accepts(
        new_page, people, api, sign_in, shoot, check_axe, mailbox):
    tenant = people.tenant("Bocholt", BOCHOLT)
    verein_page, volunteer_page = new_page(), new_page()
    verein = sign_in(verein_page, "association", tenant, name=f"Heimatverein Bocholt {unique('hv')}",
                     location=BOCHOLT)
    volunteer = sign_in(volunteer_page, "volunteer", tenant, location=north_of(BOCHOLT, 2))
    # The volunteer's own offer, through the API: a contact request pairs it with the need.
    offer = api.http.post("/offers", json=item_body(
        volunteer.actor_id, north_of(BOCHOLT, 2), title=f"Ich helfe samstags draußen {unique('o')}",
        categories=["environment"], skills=["naturschutz"], engagement="regular", radius_km=10,
        schedule={"dates": [], "weekly": [{"day": "sat", "start": "10:00", "end": "12:00"}]}),
        headers=volunteer.headers)
    assert offer.status_code == 201, offer.text
    offer_id = offer.json()["id"]

    # ---- the Verein publishes its need ----------------------------------------------------------
    title = f"Helfende für die Aufräumaktion an der Aa {unique('n')}"
    page = verein_page
    open_route(page, "#/post")
    expect(page.get_by_role("heading", level=1)).to_have_text("Angebot oder Gesuch eintragen")
    check_axe(page, "#/post")
    page.get_by_role("radio", name=re.compile("Ein Gesuch")).check()
    expect(page.get_by_label("Eintragen als")).to_contain_text(verein.name)
    page.get_by_label("Titel", exact=True).fill(title)
    page.get_by_label("Beschreibung", exact=True).fill(
        "Wir räumen samstags das Ufer der Aa auf und brauchen Menschen, die mit anpacken.")
    page.get_by_role("checkbox", name="Umwelt- und Naturschutz").check()
    page.get_by_label("Fähigkeiten", exact=True).fill("naturschutz, aufbau")
    page.get_by_label("Art des Engagements").select_option("regular")
    page.get_by_role("button", name="Wochentag hinzufügen").click()
    week = page.get_by_role("group", name="Wochentag 1")
    week.get_by_label("Wochentag", exact=True).select_option("sat")
    week.get_by_label("Von", exact=True).fill("09:00")
    week.get_by_label("Bis", exact=True).fill("13:00")
    pick_place(page, "Ort", "Bocholt")
    expect(page.locator("#p-location-note")).to_contain_text("Bocholt")
    page.get_by_label(re.compile("^Umkreis in km")).fill("10")
    shoot(page, "post-need")
    page.get_by_role("button", name="Veröffentlichen").click()

    expect(page).to_have_url(re.compile(r"#/needs/[^/?]+$"), timeout=SLOW_MS)
    need_id = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("heading", name="Ihr Eintrag")).to_be_visible()
    expect(page.locator("main")).to_contain_text("naturschutz")
    expect(page.locator("main")).to_contain_text("Samstag")
    assert title in page.title()
    check_axe(page, "#/needs/<id> (owner)")
    shoot(page, "need-owner")
    stored = api.http.get(f"/needs/{need_id}", headers=verein.headers).json()
    assert stored["skills"] == ["naturschutz", "aufbau"]
    assert stored["schedule"]["weekly"] == [{"day": "sat", "start": "09:00", "end": "13:00"}]
    assert stored["radius_km"] == 10

    # ---- the volunteer finds it on the map within 10 km -------------------------------------
    page = volunteer_page
    open_route(page, "#/search")
    page.get_by_label("Was suchen Sie?").select_option("need")
    pick_place(page, "Ort", "Bocholt")
    page.get_by_label("Umkreis", exact=True).select_option("10")
    card = page.locator(".results li").filter(has=page.get_by_role("link", name=title))

    def found() -> bool:
        page.get_by_role("button", name="Suchen", exact=True).click()
        try:
            expect(card).to_be_visible(timeout=5_000)
            return True
        except AssertionError:
            return False

    eventually_sync(found, timeout_s=60, interval_s=0.5, message="the new need in the radius search")
    expect(page).to_have_url(re.compile(r"radius_km=10"))
    markers = page.locator("#s-map path.leaflet-interactive")
    expect(markers.first).to_be_visible()
    card.hover()
    marker = page.locator(f'#s-map path.leaflet-interactive[fill="{ACTIVE_MARKER_FILL}"]')
    expect(marker).to_have_count(1)
    check_axe(page, "#/search (results)")
    shoot(page, "search-results")
    # The highlight goes when the pointer leaves the list entry: hold on to the element itself.
    marker.element_handle().click()
    popup = page.locator("#s-map .leaflet-popup")
    expect(popup).to_contain_text(title)
    popup.get_by_role("link", name="Ansehen").click()

    # ---- opens it and asks for contact ----------------------------------------------------------
    expect(page).to_have_url(re.compile(rf"#/needs/{re.escape(need_id)}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    # Contact requests belong to a current match: wait until the matcher paired the two.
    eventually_sync(lambda: any(m["offer_id"] == offer_id for m in api.http.get(
        f"/needs/{need_id}/matches", headers=verein.headers).json().get("items", [])),
        timeout_s=60, interval_s=0.5, message="the match of the offer and the need")
    mine = page.get_by_label("Mit welchem Ihrer Angebote?")
    expect(mine).to_contain_text(offer.json()["title"])
    page.get_by_label("Nachricht", exact=True).fill("Ich bin samstags dabei und bringe Handschuhe mit.")
    check_axe(page, "#/needs/<id> (visitor)")
    shoot(page, "need-visitor")
    page.get_by_role("button", name="Anfrage senden").click()
    expect(page.locator("main").get_by_text("Ihre Kontaktanfrage wurde gesendet.")).to_be_visible(
        timeout=SLOW_MS)

    # ---- the Verein accepts ---------------------------------------------------------------------
    page = verein_page
    open_route(page, "#/contacts")
    request = page.locator(".contact-card").filter(
        has=page.get_by_role("heading", name=re.compile(f"Anfrage von {re.escape(volunteer.name)}")))
    expect(request).to_be_visible(timeout=SLOW_MS)
    expect(request).to_contain_text("Ich bin samstags dabei")
    expect(request).not_to_contain_text(volunteer.email)
    check_axe(page, "#/contacts (open request)")
    shoot(page, "contacts-received")
    request.get_by_role("button", name="Annehmen").click()
    expect(request.get_by_role("heading", name="Kontaktdaten")).to_be_visible(timeout=SLOW_MS)
    expect(request.get_by_role("link", name=re.compile(re.escape(volunteer.email)))).to_be_visible()
    check_axe(page, "#/contacts (accepted)")
    shoot(page, "contacts-accepted")

    # ---- both see each other's details ------------------------------------------------------------
    page = volunteer_page
    open_route(page, "#/contacts")
    sent = page.locator(".contact-card").filter(
        has=page.get_by_role("heading", name=re.compile(f"Anfrage an {re.escape(verein.name)}")))
    expect(sent).to_contain_text("angenommen", timeout=SLOW_MS)
    expect(sent.get_by_role("link", name=re.compile(re.escape(verein.email)))).to_be_visible()
    check_axe(page, "#/contacts (sent, accepted)")

    # ---- the link in the notification e-mail opens the need -----------------------------------
    def mail_link() -> str | None:
        for mail in mailbox(verein.email):
            for link in links_in(mail):
                if link.endswith(f"#/needs/{need_id}"):
                    return link
        return None

    link = eventually_sync(mail_link, timeout_s=90, interval_s=1,
                           message=f"an e-mail to {verein.email} linking to the need")
    page = verein_page
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(title, timeout=SLOW_MS)
    assert not verein_page.problems and not volunteer_page.problems, \
        verein_page.problems + volunteer_page.problems

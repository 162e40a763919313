"""Issue 13: a Verein adds a date (shift) to its need on the need's page; a volunteer signs up
there, finds it in the calendar view ("Meine Einsätze"), cancels it and signs up again; the
Verein sees who is coming, removes a second volunteer with a reason (a third moves up from the
waiting list), moves the date to the next day (the volunteer's calendar follows) and, after the
shift, confirms the hours the volunteer proposed (and issues a certificate); the volunteer sees
them on "Meine Stunden" and downloads the certificate (a PDF). Last, the Verein adds a date over
night, which the volunteer's calendar marks on both days.

The pages the Verein and the volunteer use (the dates with the add and change forms, who is
coming, the sign-up, the calendar, the hours) are also looked at on a phone (375 px) as the
journey reaches them, and the browser's own date and time fields show German formats.

The shift has to start in the future to be signed up for and to have started for its hours:
a test cannot wait days, so after the sign-ups the shift is moved into the past in the store
(as test_journey_pause ages a need)."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SLOW_MS, open_route, too_small_targets
from tests.support.api import item_body, unique

pytestmark = pytest.mark.browser
BOTTROP = {"lat": 51.5236, "lon": 6.9285}
BERLIN = ZoneInfo("Europe/Berlin")
PHONE_UPRIGHT = {"width": 375, "height": 812}


def date_groups(form):
    """The "Beginn" and "Ende" groups (a date and a time each) of a form for a date."""
    return (form.get_by_role("group", name="Beginn", exact=True),
            form.get_by_role("group", name="Ende", exact=True))


@pytest.fixture
def on_a_phone(check_axe, no_horizontal_overflow, shoot):
    """`on_a_phone(page, "shift-signed-up", part)`: the page as it is now, on a phone held
    upright: nothing sticks out sideways, every control is big enough to tap, axe passes; a
    screenshot with `part` at the top (<name>-375.png); then back to the page's own size."""

    def check(page, name: str, part) -> None:
        size = page.viewport_size
        page.set_viewport_size(PHONE_UPRIGHT)
        page.wait_for_function("(width) => window.innerWidth === width", arg=PHONE_UPRIGHT["width"])
        where = f"{name} at {PHONE_UPRIGHT['width']} px"
        no_horizontal_overflow(page, where)
        small = too_small_targets(page)
        assert not small, f"{where}: controls too small to tap: {small}"
        check_axe(page, where)
        part.evaluate("(element) => element.scrollIntoView({block: 'start'})")
        shoot(page, name)
        page.set_viewport_size(size)

    return check


def shown_parts(page, selector: str) -> list[tuple[str, int]]:
    """What Chromium shows inside a date or time input, part by part (its spin buttons, in order):
    name and value, e.g. [("Tag", 5), ("Monat", 12), ("Baujahr", 2026)] (sic). They are not in the
    DOM; the accessibility tree has them."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        parts = cdp.send("Accessibility.queryAXTree", {"nodeId": node, "role": "spinbutton"})["nodes"]
        # Chromium names each part twice ("Tag Tag").
        return [(part["name"]["value"].split()[0], part.get("value", {}).get("value"))
                for part in parts]
    finally:
        cdp.detach()


def reload(page) -> None:
    """The same route again, as it is now (opening the hash a page shows already changes nothing)."""
    page.reload()
    expect(page.locator("main h1").first).to_be_visible(timeout=SLOW_MS)
    page.wait_for_load_state("networkidle")


def test_a_volunteer_signs_up_for_a_shift_cancels_and_gets_a_certificate(
        new_page, people, api, stack, sign_in, check_axe, shoot, on_a_phone, gateway_url, tmp_path):
    tenant = people.tenant("Bottrop", BOTTROP)
    verein = people.person("association", tenant, location=BOTTROP)
    volunteer = people.person("volunteer", tenant, location=BOTTROP)
    other = people.person("volunteer", tenant, location=BOTTROP)
    third = people.person("volunteer", tenant, location=BOTTROP)
    title = f"Helfende für die Tafel {unique('n')}"
    need = api.http.post("/needs", json=item_body(verein.actor_id, BOTTROP, title=title),
                         headers=verein.headers)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    day = (datetime.now(BERLIN) + timedelta(days=3)).date()

    # ---- the Verein adds a date on its need's page -------------------------------
    org_page = new_page()
    sign_in(org_page, verein)
    open_route(org_page, f"#/needs/{need_id}")
    section = org_page.locator("section.shifts")
    expect(section.get_by_role("heading", name="Termine", level=2)).to_be_visible(timeout=SLOW_MS)
    expect(section.get_by_text("Noch keine Termine.")).to_be_visible()
    form = section.get_by_role("form", name="Termin hinzufügen")
    start_group, end_group = date_groups(form)
    start_group.get_by_label("Datum").fill(day.isoformat())
    expect(end_group.get_by_label("Datum")).to_have_value(day.isoformat())  # the same day at first
    start_group.get_by_label("Uhrzeit").fill("10:00")
    # The browser's own fields show them the German way: day first, 24 hours (chromium-l10n)
    date_parts = shown_parts(org_page, "#is-new-start-date")
    assert [value for _, value in date_parts] == [day.day, day.month, day.year] \
        and [name for name, _ in date_parts[:2]] == ["Tag", "Monat"], \
        f"the date field does not read TT.MM.JJJJ ({date_parts}): is Debian's chromium-l10n installed?"
    assert shown_parts(org_page, "#is-new-start-time") == [("Stunden", 10), ("Minuten", 0)]
    end_group.get_by_label("Uhrzeit").fill("09:00")  # before the start: refused before sending
    form.get_by_label("Plätze").fill("2")
    form.get_by_label("Ort (optional)").fill("Gemeindehaus St. Cyriakus")
    form.get_by_label("Hinweis (optional)").fill("Bitte feste Schuhe mitbringen.")
    form.get_by_role("button", name="Termin speichern").click()
    expect(end_group).to_have_attribute("aria-invalid", "true", timeout=SLOW_MS)
    expect(end_group.locator(".field-error")).to_have_text("Das Ende muss nach dem Beginn liegen.")
    expect(form.locator(".error-summary")).to_be_focused()
    check_axe(org_page, "the add-a-date form with an error")
    shoot(org_page, "shift-form-error")
    on_a_phone(org_page, "shift-form-error", form)
    assert api.http.get(f"/needs/{need_id}/shifts").json()["items"] == [], \
        "a refused date is not stored"

    end_group.get_by_label("Uhrzeit").fill("13:00")
    form.get_by_role("button", name="Termin speichern").click()
    shift_card = section.locator("li.shift")
    expect(shift_card).to_have_count(1, timeout=SLOW_MS)
    expect(shift_card).to_contain_text("10:00 – 13:00")
    expect(shift_card).to_contain_text("2 von 2 Plätzen frei")
    expect(shift_card).to_contain_text("Gemeindehaus St. Cyriakus")
    expect(shift_card).to_contain_text("Bitte feste Schuhe mitbringen.")
    expect(shift_card).to_contain_text("Noch keine Anmeldungen.")
    expect(org_page.locator("#status")).to_contain_text("Termin hinzugefügt")
    shifts = api.http.get(f"/needs/{need_id}/shifts").json()["items"]
    assert len(shifts) == 1
    shift = shifts[0]
    start = datetime.fromisoformat(shift["start"]).astimezone(BERLIN)
    assert (start.date(), start.hour, start.minute) == (day, 10, 0), shift["start"]
    check_axe(org_page, "the need with a date (owner)")

    # ---- the volunteer signs up on the need's page -------------------------------
    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, volunteer)
    open_route(page, f"#/needs/{need_id}")
    card = page.locator("li.shift")
    expect(card).to_contain_text("2 von 2 Plätzen frei", timeout=SLOW_MS)
    card.get_by_role("button", name=re.compile(r"^Anmelden für")).click()
    expect(card.locator(".my-status")).to_contain_text("Angemeldet", timeout=SLOW_MS)
    expect(card).to_contain_text("1 von 2 Plätzen frei")
    expect(card.get_by_role("button", name=re.compile(r"^Abmelden von"))).to_be_visible()
    check_axe(page, "the need with a date (volunteer, signed up)")
    shoot(page, "shift-signed-up")
    on_a_phone(page, "shift-signed-up", card)

    # ---- ... and finds it in the calendar view --------------------------------------
    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    navigation.get_by_role("link", name="Meine Einsätze").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Einsätze", timeout=SLOW_MS)
    month = page.locator("#en-month")
    day_button = page.locator(f"button[data-calendar-day='{day.isoformat()}']")
    expect(day_button).to_be_visible(timeout=SLOW_MS)
    expect(day_button).to_have_attribute("aria-label", re.compile(r"1 Einsatz"))
    agenda = page.locator("li.engagement")
    expect(agenda).to_have_count(1)
    expect(agenda).to_contain_text(title)
    expect(agenda).to_contain_text("Angemeldet")
    expect(agenda).to_contain_text("10:00 – 13:00")
    day_button.click()
    expect(agenda.get_by_role("link", name=title)).to_be_focused()
    month_name = month.inner_text()
    page.get_by_role("button", name="Nächster Monat").click()
    expect(month).not_to_have_text(month_name)
    expect(page.locator("#en-prev")).to_be_visible()
    page.get_by_role("button", name="Vorheriger Monat").click()
    expect(month).to_have_text(month_name)

    feed = page.get_by_label("Link zu Ihrem Kalender (iCalendar)")
    expect(feed).to_have_value(re.compile(r"/calendars/.+\.ics$"), timeout=SLOW_MS)
    feed_path = re.sub(r"^https?://[^/]+", "", feed.input_value())
    ics = httpx.get(gateway_url + feed_path, timeout=20)
    assert ics.status_code == 200, ics.text
    assert ics.headers["content-type"].startswith("text/calendar")
    assert title in ics.text.replace("\r\n ", "")
    check_axe(page, "#/me/engagements")
    shoot(page, "me-engagements")
    on_a_phone(page, "me-engagements", page.locator("main h1"))

    # a new secret link: the old one stops working
    page.get_by_role("button", name="Neuen Link erzeugen").click()
    expect(page.locator("#status")).to_contain_text("Neuer Link erzeugt", timeout=SLOW_MS)
    expect(feed).not_to_have_value(re.compile(re.escape(feed_path) + "$"))
    assert httpx.get(gateway_url + feed_path, timeout=20).status_code == 404
    # the new link is shown again on the next visit (for a second device)
    renewed_url = feed.input_value()
    reload(page)
    expect(feed).to_have_value(renewed_url, timeout=SLOW_MS)
    expect(page.get_by_text("Sie finden ihn jederzeit hier wieder")).to_be_visible()

    # ---- cancels it there ---------------------------------------------------------
    agenda.get_by_role("button", name=re.compile(r"^Abmelden von")).click()
    expect(page.locator("#status")).to_contain_text("Sie haben sich abgemeldet", timeout=SLOW_MS)
    expect(page.locator("li.engagement")).to_have_count(0)
    expect(page.get_by_text("In diesem Monat haben Sie keine Einsätze.")).to_be_visible()
    expect(day_button).to_have_count(0)
    check_axe(page, "#/me/engagements after cancelling")
    assert api.http.get(f"/shifts/{shift['id']}").json()["places_left"] == 2

    # ---- and signs up again -----------------------------------------------------------
    open_route(page, f"#/needs/{need_id}")
    card.get_by_role("button", name=re.compile(r"^Anmelden für")).click()
    expect(card.locator(".my-status")).to_contain_text("Angemeldet", timeout=SLOW_MS)
    open_route(page, "#/me/engagements")
    expect(page.locator("li.engagement")).to_have_count(1, timeout=SLOW_MS)

    # ---- the Verein sees who is coming and removes someone, with a reason --------------
    second = api.http.post(f"/shifts/{shift['id']}/signups", json={"actor_id": other.actor_id},
                           headers=other.headers)
    assert second.status_code == 201, second.text
    assert second.json()["status"] == "confirmed"
    # the date is full now: a third person joins the waiting list
    third_page = new_page()
    sign_in(third_page, third)
    open_route(third_page, f"#/needs/{need_id}")
    third_card = third_page.locator("li.shift")
    expect(third_card).to_contain_text("ausgebucht", timeout=SLOW_MS)
    third_card.get_by_role("button", name=re.compile(r"^Auf die Warteliste für")).click()
    expect(third_card.locator(".my-status")).to_contain_text("Warteliste Platz 1", timeout=SLOW_MS)
    expect(third_card).to_contain_text("1 auf der Warteliste")
    check_axe(third_page, "the need with a full date (waiting list)")
    shoot(third_page, "shift-waitlisted")

    reload(org_page)
    rows = org_page.locator("li.signup-row")
    expect(rows).to_have_count(3, timeout=SLOW_MS)
    expect(rows.filter(has_text=volunteer.name)).to_contain_text("Angemeldet")
    expect(rows.filter(has_text=third.name)).to_contain_text("Warteliste Platz 1")
    expect(org_page.locator("li.shift")).to_contain_text("ausgebucht")
    on_a_phone(org_page, "shift-who-is-coming", org_page.locator("li.shift"))
    org_page.get_by_role("button", name=f"{other.name} entfernen").click()
    reason = org_page.get_by_label(f"Grund für {other.name} (wird mitgeteilt)")
    expect(reason).to_be_focused()
    org_page.get_by_role("button", name="Entfernen", exact=True).click()
    expect(reason).to_have_attribute("aria-invalid", "true", timeout=SLOW_MS)
    expect(org_page.locator(".field-error")).to_contain_text("Bitte geben Sie einen Grund an.")
    check_axe(org_page, "removing a volunteer without a reason")
    reason.fill("Der Termin ist für Erwachsene.")
    org_page.get_by_role("button", name="Entfernen", exact=True).click()
    expect(org_page.locator("#status")).to_contain_text(f"{other.name} wurde entfernt", timeout=SLOW_MS)
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=third.name)).to_contain_text("Angemeldet")  # moved up
    reload(third_page)
    expect(third_card.locator(".my-status")).to_contain_text("Angemeldet", timeout=SLOW_MS)
    removed = api.http.get("/me/signups", headers=other.headers).json()["items"]
    assert [(s["status"], s["reason"]) for s in removed] == [
        ("removed", "Der Termin ist für Erwachsene.")]

    # ---- the Verein moves the date to the next day, 14:00 to 17:00 ---------------------
    moved_day = day + timedelta(days=1)
    org_card = org_page.locator("li.shift")
    org_card.get_by_role("button", name=re.compile(r"^Termin ändern:")).click()
    edit = org_card.get_by_role("form", name="Termin ändern")
    expect(edit.get_by_role("heading", name="Termin ändern")).to_be_focused()
    start_group, end_group = date_groups(edit)
    expect(start_group.get_by_label("Datum")).to_have_value(day.isoformat())  # filled with the date
    expect(start_group.get_by_label("Uhrzeit")).to_have_value("10:00")
    expect(end_group.get_by_label("Datum")).to_have_value(day.isoformat())
    expect(end_group.get_by_label("Uhrzeit")).to_have_value("13:00")
    expect(edit.get_by_label("Ort (optional)")).to_have_value("Gemeindehaus St. Cyriakus")
    expect(edit.get_by_label("Hinweis (optional)")).to_have_value("Bitte feste Schuhe mitbringen.")
    places = edit.get_by_label("Plätze")
    expect(places).to_have_value("2")
    # fewer places than people signed up: the API refuses it, next to the field
    places.fill("1")
    edit.get_by_role("button", name="Änderungen speichern").click()
    expect(places).to_have_attribute("aria-invalid", "true", timeout=SLOW_MS)
    expect(edit.locator(".field-error")).to_have_text(
        "Bereits angemeldet: 2. Weniger Plätze sind nicht möglich.")
    check_axe(org_page, "the change-a-date form with an error")
    shoot(org_page, "shift-form-edit")
    on_a_phone(org_page, "shift-form-edit", edit)
    places.fill("2")
    # someone else changes the date meanwhile: saving is refused, the current state can be loaded
    current = api.http.get(f"/shifts/{shift['id']}").json()
    other_note = "Bitte feste Schuhe und Arbeitshandschuhe mitbringen."
    changed = api.http.patch(f"/shifts/{shift['id']}", headers=verein.headers,
                             json={"note": other_note, "version": current["version"]})
    assert changed.status_code == 200, changed.text
    start_group.get_by_label("Datum").fill(moved_day.isoformat())
    expect(end_group.get_by_label("Datum")).to_have_value(moved_day.isoformat())  # follows
    edit.get_by_role("button", name="Änderungen speichern").click()
    conflict = edit.locator(".conflict")
    expect(conflict).to_contain_text("Jemand hat das inzwischen geändert.", timeout=SLOW_MS)
    expect(conflict).to_be_focused()
    assert api.http.get(f"/shifts/{shift['id']}").json()["start"] == current["start"]
    edit.get_by_role("button", name="Aktuellen Stand laden").click()
    expect(edit.get_by_label("Hinweis (optional)")).to_have_value(other_note, timeout=SLOW_MS)
    expect(start_group.get_by_label("Datum")).to_have_value(day.isoformat())
    expect(conflict).to_have_count(0)
    start_group.get_by_label("Datum").fill(moved_day.isoformat())
    start_group.get_by_label("Uhrzeit").fill("14:00")
    end_group.get_by_label("Uhrzeit").fill("17:00")
    edit.get_by_role("button", name="Änderungen speichern").click()
    expect(org_page.locator("#status")).to_contain_text(
        "Termin verschoben auf", timeout=SLOW_MS)
    expect(edit).to_have_count(0)
    expect(org_card).to_contain_text("14:00 – 17:00")
    expect(org_card).to_contain_text(other_note)
    start = datetime.fromisoformat(
        api.http.get(f"/shifts/{shift['id']}").json()["start"]).astimezone(BERLIN)
    assert (start.date(), start.hour) == (moved_day, 14), start
    # ... and the volunteer's calendar follows
    reload(page)  # "Meine Einsätze", since signing up again
    expect(page.locator("li.engagement")).to_contain_text("14:00 – 17:00", timeout=SLOW_MS)
    expect(page.locator(f"button[data-calendar-day='{moved_day.isoformat()}']")).to_be_visible()
    expect(page.locator(f"button[data-calendar-day='{day.isoformat()}']")).to_have_count(0)

    # ---- after the shift, the Verein confirms the hours -------------------------------
    from pymongo import MongoClient

    worked = datetime.now(BERLIN).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    with MongoClient(stack.mongo_uri_for("profiles")) as client:
        moved = client["profiles"].shifts.update_one(
            {"_id": shift["id"]}, {"$set": {"start": worked, "end": worked + timedelta(hours=3)}})
        assert moved.matched_count == 1
    # the volunteer proposes their hours in "Meine Einsätze" ...
    reload(page)  # still there since signing up again
    if worked.month != datetime.now(BERLIN).month:
        page.get_by_role("button", name="Vorheriger Monat").click()
    proposed = page.get_by_label(f"Ihre Stunden bei {title}")
    expect(proposed).to_have_value("3", timeout=SLOW_MS)
    page.get_by_role("button", name=f"Stunden vorschlagen: {title}").click()
    expect(page.locator("li.engagement .hours-state")).to_have_text(
        "Vorgeschlagen: 3 Stunden – wartet auf die Bestätigung der Organisation.", timeout=SLOW_MS)
    check_axe(page, "#/me/engagements with proposed hours")
    # ... and the Verein confirms them, a little less
    reload(org_page)
    expect(rows.filter(has_text=volunteer.name)).to_contain_text(
        "Vorgeschlagen: 3 Stunden", timeout=SLOW_MS)
    hours = org_page.get_by_label(f"Stunden von {volunteer.name}")
    expect(hours).to_have_value("3", timeout=SLOW_MS)
    on_a_phone(org_page, "shift-hours-to-confirm", rows.filter(has_text=volunteer.name))
    hours.fill("2.5")
    org_page.get_by_role("button", name=f"Stunden bestätigen: {volunteer.name}").click()
    expect(org_page.locator(".hours-done")).to_have_text("Bestätigt: 2,5 Stunden", timeout=SLOW_MS)
    check_axe(org_page, "the need after the shift (owner)")
    shoot(org_page, "shift-hours-confirmed")
    with org_page.expect_download(timeout=SLOW_MS) as issued_info:
        org_page.get_by_role("button", name=f"Engagementnachweis (PDF): {volunteer.name}").click()
    issued = tmp_path / "issued.pdf"
    issued_info.value.save_as(issued)
    assert issued.read_bytes().startswith(b"%PDF"), issued.read_bytes()[:200]

    # ---- the volunteer sees the hours and downloads the certificate ------------------
    year = worked.year
    open_route(page, f"#/me/hours?year={year}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Stunden")
    expect(page.locator("#ho-year-total")).to_have_text(f"Bestätigte Stunden {year}: 2,5",
                                                        timeout=SLOW_MS)
    expect(page.locator("table.hours-table")).to_contain_text(verein.name)
    expect(page.locator(".volunteer-card")).to_contain_text("2,5 von 250 Stunden")
    expect(page.locator(".volunteer-card progress")).to_have_attribute("max", "250")
    check_axe(page, "#/me/hours")
    shoot(page, "me-hours")
    with page.expect_download(timeout=SLOW_MS) as download_info:
        page.get_by_role("button", name="Engagementnachweis herunterladen (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"engagementnachweis-{year}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF"), saved.read_bytes()[:200]
    if shutil.which("pdftotext"):
        text = " ".join(subprocess.run(["pdftotext", str(saved), "-"], capture_output=True,
                                       text=True, check=True).stdout.split())  # names may wrap
        assert volunteer.name in text and verein.name in text and "2,5" in text, text

    # ---- a date over night: the end on the next day -----------------------------------
    evening = (datetime.now(BERLIN) + timedelta(days=10)).date()
    if (evening + timedelta(days=1)).month != evening.month:
        evening += timedelta(days=2)  # both days in one month of the calendar below
    morning = evening + timedelta(days=1)
    form = section.get_by_role("form", name="Termin hinzufügen")
    start_group, end_group = date_groups(form)
    start_group.get_by_label("Datum").fill(evening.isoformat())
    start_group.get_by_label("Uhrzeit").fill("18:00")
    end_group.get_by_label("Uhrzeit").fill("10:00")
    form.get_by_label("Plätze").fill("4")
    form.get_by_label("Ort (optional)").fill("Zeltplatz am Kanal")
    save = form.get_by_role("button", name="Termin speichern")
    save.click()  # ends before it starts (still the same day)
    expect(end_group.locator(".field-error")).to_have_text("Das Ende muss nach dem Beginn liegen.")
    end_group.get_by_label("Datum").fill((evening + timedelta(days=2)).isoformat())
    save.click()  # two nights: longer than the API allows, said at the field
    expect(end_group.locator(".field-error")).to_have_text(
        "Ein Termin dauert höchstens 24 Stunden.", timeout=SLOW_MS)
    end_group.get_by_label("Datum").fill(morning.isoformat())
    save.click()
    both_dates = f"{evening:%d.%m.%Y}, 18:00 – {morning:%d.%m.%Y}, 10:00"
    overnight = section.locator("li.shift").filter(has_text="Zeltplatz am Kanal")
    expect(overnight).to_contain_text(both_dates, timeout=SLOW_MS)
    expect(org_page.locator("#status")).to_contain_text("Termin hinzugefügt")
    overnight.scroll_into_view_if_needed()
    shoot(org_page, "shift-over-night")
    overnight_id = overnight.get_attribute("id").removeprefix("shift-")
    signed = api.http.post(f"/shifts/{overnight_id}/signups", headers=volunteer.headers,
                           json={"actor_id": volunteer.actor_id})
    assert signed.status_code == 201, signed.text
    open_route(page, "#/me/engagements")
    for night in (evening, morning):
        expect(page.locator(f"button[data-calendar-day='{night.isoformat()}']")).to_have_attribute(
            "aria-label", re.compile(r"1 Einsatz"), timeout=SLOW_MS)
    expect(page.locator("li.engagement").filter(has_text="Zeltplatz am Kanal")).to_contain_text(
        both_dates)
    shoot(page, "me-engagements-over-night")

    assert not page.problems, page.problems
    assert not org_page.problems, org_page.problems
    assert not third_page.problems, third_page.problems


def test_a_municipality_sets_the_hours_of_its_volunteer_card(new_page, people, api, sign_in,
                                                              check_axe, shoot):
    tenant = people.tenant("Gladbeck", BOTTROP)
    admin = people.person("tenant_admin", tenant)
    volunteer = people.person("volunteer", tenant, location=BOTTROP)
    page = new_page()
    sign_in(page, admin)
    open_route(page, "#/admin/branding")
    hours = page.get_by_label("Stunden im Jahr für die Ehrenamtskarte")
    expect(hours).to_have_value("250", timeout=SLOW_MS)
    hours.fill("0")
    page.get_by_role("button", name="Ehrenamtskarte speichern").click()
    expect(hours).to_have_attribute("aria-invalid", "true", timeout=SLOW_MS)
    expect(page.locator("form.card-form .field-error")).to_have_text("Mindestens 1.")
    check_axe(page, "the volunteer card setting with an error")
    assert api.http.get(f"/tenants/{tenant}").json()["volunteer_card"]["hours_per_year"] == 250
    hours.fill("100")
    page.get_by_role("button", name="Ehrenamtskarte speichern").click()
    expect(page.locator("#status")).to_contain_text("Gespeichert: 100 Stunden im Jahr.", timeout=SLOW_MS)
    assert api.http.get(f"/tenants/{tenant}").json()["volunteer_card"]["hours_per_year"] == 100

    person_page = new_page()
    sign_in(person_page, volunteer)
    open_route(person_page, "#/me/hours")
    expect(person_page.locator(".volunteer-card")).to_contain_text("0 von 100 Stunden", timeout=SLOW_MS)
    expect(person_page.locator(".volunteer-card")).to_contain_text("Es fehlen noch 100 Stunden.")
    check_axe(person_page, "#/me/hours without hours")
    shoot(person_page, "me-hours-none")
    assert not page.problems and not person_page.problems, page.problems + person_page.problems

"""Journey 4: a person downloads everything stored about them, then deletes the account after the
confirmation step; afterwards they are signed out and their profile and offer are gone. The only
admin of a Verein is stopped, closes the Verein from its page (after a confirmation step), and
can then delete the account."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SLOW_MS, open_route
from tests.support.api import item_body, unique
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.browser
HALTERN = {"lat": 51.7430, "lon": 7.1855}


def test_a_person_exports_their_data_and_deletes_the_account(page, people, api, sign_in,
                                                             check_axe, shoot, tmp_path):
    tenant = people.tenant("Haltern am See", HALTERN)
    person = sign_in(page, "volunteer", tenant, location=HALTERN)
    title = f"Ich gehe mit Hunden aus dem Tierheim spazieren {unique('o')}"
    offer = api.http.post("/offers", json=item_body(person.actor_id, HALTERN, title=title),
                          headers=person.headers)
    assert offer.status_code == 201, offer.text
    offer_id = offer.json()["id"]
    other = people.person("volunteer", tenant, location=HALTERN)
    here = {"kind": "offer", "lat": HALTERN["lat"], "lon": HALTERN["lon"], "radius_km": 10}
    eventually_sync(lambda: offer_id in api.search_ids(other.headers, **here), timeout_s=60,
                    interval_s=0.5, message="the offer in search")

    # ---- the download ---------------------------------------------------------------------------
    open_route(page, "#/me")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Daten")
    check_axe(page, "#/me")
    with page.expect_download(timeout=SLOW_MS) as download_info:
        page.get_by_role("button", name="Meine Daten herunterladen").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json"), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    exported = json.loads(saved.read_text())
    text = json.dumps(exported, ensure_ascii=False)
    assert person.name in text and person.email in text and title in text, \
        "the export holds the person's profile and offer"

    # ---- the deletion, after the confirmation ------------------------------------------------------
    page.get_by_role("button", name="Konto löschen …").click()
    confirm = page.get_by_label("Zur Bestätigung geben Sie LÖSCHEN ein")
    expect(confirm).to_be_focused()
    confirm.fill("löschen bitte")
    page.get_by_role("button", name="Konto endgültig löschen").click()
    expect(confirm).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main").get_by_text("Bitte geben Sie genau LÖSCHEN ein.")).to_be_visible()
    assert api.http.get(f"/actors/{person.actor_id}", headers=other.headers).status_code == 200, \
        "nothing is deleted without the right confirmation"
    check_axe(page, "#/me (confirmation)")
    shoot(page, "me-delete-confirm")
    confirm.fill("LÖSCHEN")
    page.get_by_role("button", name="Konto endgültig löschen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Konto wurde gelöscht",
                                                              timeout=SLOW_MS)
    expect(page.get_by_role("link", name="Anmelden")).to_be_visible()
    assert page.evaluate("localStorage.getItem('engage.session')") is None
    check_axe(page, "#/me?deleted=1")
    shoot(page, "me-deleted")

    assert api.http.get(f"/actors/{person.actor_id}", headers=other.headers).status_code == 404
    eventually_sync(lambda: offer_id not in api.search_ids(other.headers, **here), timeout_s=60,
                    interval_s=0.5, message="the deleted person's offer leaving search")
    assert not page.problems, page.problems


def test_the_only_admin_of_a_verein_closes_it_and_then_deletes_the_account(page, sign_in, api,
                                                                          check_axe, shoot):
    admin = sign_in(page, "association")
    title = f"Kuchen für das Vereinsfest {unique('n')}"
    need = api.http.post("/needs", json=item_body(admin.actor_id, admin.location, title=title),
                         headers=admin.headers)
    assert need.status_code == 201, need.text
    open_route(page, "#/me")
    who = page.locator("#site-header .who")
    expect(who).to_have_text(f"Angemeldet als {admin.name}")
    page.get_by_role("button", name="Konto löschen …").click()
    page.get_by_label("Zur Bestätigung geben Sie LÖSCHEN ein").fill("LÖSCHEN")
    page.get_by_role("button", name="Konto endgültig löschen").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Ihr Konto wurde nicht gelöscht", timeout=SLOW_MS)
    link = alert.get_by_role(
        "link", name=f"Mitglieder von {admin.name} verwalten oder die Organisation schließen")
    expect(link).to_have_attribute("href", f"#/actors/{admin.actor_id}/edit")
    expect(alert).to_be_focused()
    check_axe(page, "#/me (last owner)")
    shoot(page, "me-delete-last-owner")
    assert api.http.get(f"/actors/{admin.actor_id}", headers=admin.headers).json()["owners"] == [
        admin.sub], "nothing changed"
    link.click()
    expect(page).to_have_url(re.compile(f"#/actors/{admin.actor_id}/edit$"))

    # ---- closing the Verein, after the confirmation step ---------------------------------------
    closing = page.get_by_role("region", name="Organisation schließen")
    expect(closing).to_contain_text("nicht rückgängig gemacht werden")
    closing.get_by_role("button", name="Organisation schließen …").click()
    question = page.locator("#close-question")
    expect(question).to_be_focused()
    expect(question).to_have_text(f"{admin.name} jetzt endgültig schließen?")
    check_axe(page, "#/actors/:id/edit (closing)")
    shoot(page, "actor-close-confirm")
    closing.get_by_role("button", name="Abbrechen").click()
    expect(closing.get_by_role("button", name="Organisation schließen …")).to_be_focused()
    assert api.http.get(f"/actors/{admin.actor_id}", headers=admin.headers).status_code == 200, \
        "nothing is closed without the confirmation"
    closing.get_by_role("button", name="Organisation schließen …").click()
    closing.get_by_role("button", name="Organisation endgültig schließen").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Organisation geschlossen", timeout=SLOW_MS)
    expect(heading).to_be_focused()
    expect(page.locator("main")).to_contain_text("Geschlossene Angebote und Gesuche: 1")
    # the header no longer names the closed Verein: no profile is left, so the account itself
    expect(who).to_have_text(f"Angemeldet als {admin.sub}")
    check_axe(page, "#/actors/:id/edit (closed)")
    shoot(page, "actor-closed")
    stored = json.loads(page.evaluate("localStorage.getItem('engage.session')"))
    assert stored["actorId"] is None and stored["label"] is None, stored
    assert api.http.get(f"/actors/{admin.actor_id}", headers=admin.headers).status_code == 404
    assert api.http.get(f"/needs/{need.json()['id']}",
                        headers=admin.headers).status_code == 404, "closed, and nobody owns it"

    # ---- now the account can go ---------------------------------------------------------------
    page.get_by_role("link", name="Zu „Meine Daten“").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Daten")
    expect(who).not_to_contain_text(admin.name)
    page.get_by_role("button", name="Konto löschen …").click()
    page.get_by_label("Zur Bestätigung geben Sie LÖSCHEN ein").fill("LÖSCHEN")
    page.get_by_role("button", name="Konto endgültig löschen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Konto wurde gelöscht",
                                                              timeout=SLOW_MS)
    assert not page.problems, page.problems


def test_the_header_falls_back_when_the_profile_acted_as_is_deleted_elsewhere(page, api, sign_in,
                                                                              shoot):
    """The stored profile is checked at start: a deleted person profile gives way to the
    remaining profile, and with none left the header names the account itself."""
    person = sign_in(page, "volunteer")
    initiative = f"Nachbarschaftshilfe {unique('i')}"
    initiative_id = api.new_actor(person.headers, type="initiative", name=initiative,
                                  location=person.location)
    open_route(page, "#/my")
    who = page.locator("#site-header .who")
    expect(who).to_have_text(f"Angemeldet als {person.name}")

    deleted = api.http.delete(f"/actors/{person.actor_id}", headers=person.headers)
    assert deleted.status_code == 200, deleted.text
    page.reload()
    expect(who).to_have_text(f"Angemeldet als {initiative}", timeout=SLOW_MS)
    stored = json.loads(page.evaluate("localStorage.getItem('engage.session')"))
    assert stored["actorId"] == initiative_id, stored
    shoot(page, "header-after-profile-deleted")

    closed = api.http.delete(f"/actors/{initiative_id}", headers=person.headers)
    assert closed.status_code == 200, closed.text
    page.reload()
    expect(who).to_have_text(f"Angemeldet als {person.sub}", timeout=SLOW_MS)
    assert json.loads(page.evaluate("localStorage.getItem('engage.session')"))["actorId"] is None
    assert not page.problems, page.problems

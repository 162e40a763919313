"""Journey 5: every page of the web app, at 1280 and 375 px, in German and English: no critical or
serious axe-core violation, a document.title of its own, nothing wider than the screen; and the
dev persona picker signs in. Screenshots of every page (German) go to docs/screenshots/."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (DESKTOP, LANGUAGE_KEY, PHONE, SLOW_MS, TENANT_KEY, axe_violations,
                                    describe_violations, horizontal_overflow, open_route,
                                    session_entries, store, switch_language)

pytestmark = pytest.mark.browser
TOWN, RECKLINGHAUSEN = "Recklinghausen", {"lat": 51.6141, "lon": 7.1979}
ERROR_TITLES = {"de": "Es ist ein Fehler aufgetreten", "en": "Something went wrong"}
NOT_FOUND_TITLES = {"de": "Seite nicht gefunden", "en": "Page not found"}
SITE_NAMES = {"de": "Engagement-Plattform", "en": "Engagement platform"}


@dataclass(frozen=True)
class Route:
    name: str       # screenshot name
    hash: str       # with {need}, {offer}, {verein_actor}, {volunteer_actor}, {contact}, {tenant}
    who: str | None  # None (signed out), volunteer, verein, admin, operator
    # Pages that show the same page as another route (one id in the URL or not) share its title.
    variant_of: str | None = None


ROUTES = [
    Route("home", "#/", None),
    Route("sign-in", "#/sign-in", None),
    Route("search", "#/search?kind=need&place=Recklinghausen&lat={lat}&lon={lon}&radius_km=25",
          "volunteer"),
    Route("post", "#/post", "verein"),
    Route("need-visitor", "#/needs/{need}", "volunteer"),
    Route("offer-owner", "#/offers/{offer}", "volunteer"),
    Route("need-edit", "#/needs/{need}/edit", "verein"),
    Route("actor", "#/actors/{verein_actor}", "volunteer"),
    Route("actor-new", "#/actors/new", "volunteer"),
    Route("actor-edit", "#/actors/{volunteer_actor}/edit", "volunteer"),
    Route("my", "#/my", "verein"),
    Route("contacts", "#/contacts", "verein"),
    Route("contact", "#/contacts/{contact}", "volunteer", variant_of="contacts"),
    Route("inbox", "#/inbox", "verein"),
    Route("settings-notifications", "#/settings/notifications", "verein"),
    Route("me", "#/me", "volunteer"),
    Route("me-engagements", "#/me/engagements", "volunteer"),
    Route("me-hours", "#/me/hours", "volunteer"),
    Route("admin", "#/admin", "admin"),
    Route("admin-branding", "#/admin/branding", "admin"),
    Route("admin-moderation", "#/admin/moderation", "admin"),
    Route("admin-stats", "#/admin/stats", "admin"),
    Route("admin-widget", "#/admin/widget", "admin"),
    Route("operator", "#/operator", "operator"),
    Route("impressum", "#/impressum", None),
    Route("datenschutz", "#/datenschutz", None),
    Route("not-found", "#/gibt-es-nicht", None),
]
TITLES: dict[tuple[str, str], str] = {}  # (language, title) -> route name


@pytest.fixture(scope="module")
def world(matched_pair, people, api):
    pair = matched_pair(TOWN, RECKLINGHAUSEN)
    contact = api.http.post("/contacts", json={
        "offer_id": pair.offer["id"], "need_id": pair.need["id"],
        "message": "Ich lese gern samstags vor."}, headers=pair.volunteer.headers)
    assert contact.status_code == 201, contact.text
    return {
        "pair": pair,
        "people": {"volunteer": pair.volunteer, "verein": pair.verein,
                   "admin": people.person("tenant_admin", pair.tenant),
                   "operator": people.person("operator", pair.tenant)},
        "values": {"need": pair.need["id"], "offer": pair.offer["id"],
                   "verein_actor": pair.verein.actor_id,
                   "volunteer_actor": pair.volunteer.actor_id,
                   "contact": contact.json()["id"], "tenant": pair.tenant,
                   "lat": RECKLINGHAUSEN["lat"], "lon": RECKLINGHAUSEN["lon"]},
    }


def show(page, route: Route, world: dict) -> None:
    """Opens the route in German, signed in as the route's person (or signed out), with the test
    municipality chosen in the header."""
    entries = {LANGUAGE_KEY: "de", TENANT_KEY: world["values"]["tenant"]}
    person = world["people"].get(route.who) if route.who else None
    if person is not None:
        entries.update(session_entries(person, person.headers["Authorization"].removeprefix("Bearer ")))
    store(page, entries)
    open_route(page, route.hash.format(**world["values"]))


@pytest.mark.parametrize("route", ROUTES, ids=[route.name for route in ROUTES])
def test_every_page_accessible_titled_and_fitting_in_both_languages(new_page, route, world, shoot):
    problems: list[str] = []
    # Each width as its own device: the page loads at that width (a phone never was 1280 px wide).
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        show(page, route, world)
        for language in ("de", "en"):
            switch_language(page, language)
            problems += check_page(page, route, language, viewport)
            if language == "de":
                shoot(page, f"page-{route.name}")
        if page.problems:
            problems.append(f"{here(page)}: uncaught script errors: {page.problems}")
    assert not problems, "\n".join(problems)


def here(page) -> str:
    """The page's hash route, for messages."""
    return page.url[page.url.index("#"):] if "#" in page.url else page.url


def check_page(page, route: Route, language: str, viewport: dict) -> list[str]:
    problems = []
    heading = page.locator("main h1").first
    expect(heading).to_be_visible(timeout=SLOW_MS)
    page.wait_for_load_state("networkidle")
    h1 = heading.inner_text().strip()
    where = f"{here(page)} ({language}, {viewport['width']} px)"
    if h1 == ERROR_TITLES[language]:
        problems.append(f"{where}: the page failed: {page.locator('main').inner_text()[:300]}")
    if route.name != "not-found" and h1 == NOT_FOUND_TITLES[language]:
        problems.append(f"{where}: the route is not known to the client")
    if route.who and page.locator("main a[href='#/sign-in']").count():
        problems.append(f"{where}: asks a signed-in {route.who} to sign in")
    # The router's titles read "<page> – <municipality> – <platform>": the first part is the page's.
    title = page.title().strip()
    if not title or title.split(" – ")[0] in {TOWN, *SITE_NAMES.values()}:
        problems.append(f"{where}: no title of its own: {title!r}")
    owner = TITLES.setdefault((language, title), route.variant_of or route.name)
    if owner != (route.variant_of or route.name):
        problems.append(f"{where}: the same title as {owner}: {title!r}")
    overflow = horizontal_overflow(page)
    if overflow:
        problems.append(f"{where} overflows sideways: scrollWidth {overflow['scroll']}; "
                        f"widest: {overflow['wide']}")
    violations = axe_violations(page)
    if violations:
        problems.append(f"{where}, axe:\n{describe_violations(violations)}")
    return problems


MAP_ROUTES = [route for route in ROUTES if route.name in {"home", "search", "post", "need-visitor"}]


@pytest.mark.parametrize("route", MAP_ROUTES, ids=[route.name for route in MAP_ROUTES])
def test_maps_stay_in_their_frame_when_a_tablet_turns(page, route, world):
    """A tablet turned from landscape (1024 px) to portrait (768 px), and a window narrowed to a
    phone's width: the map's controls and markers stay inside the map."""
    show(page, route, world)
    expect(page.locator("main .leaflet-container").first).to_be_visible(timeout=SLOW_MS)
    problems = []
    for viewport in ({"width": 1024, "height": 768}, {"width": 768, "height": 1024}, PHONE):
        page.set_viewport_size(viewport)
        page.wait_for_function("(width) => window.innerWidth === width", arg=viewport["width"])
        escaped = page.evaluate("""() => {
            const out = [];
            for (const map of document.querySelectorAll('main .leaflet-container')) {
                const frame = map.getBoundingClientRect();
                for (const part of map.querySelectorAll('.leaflet-control-zoom, .leaflet-control-scale')) {
                    const box = part.getBoundingClientRect();
                    if (box.top < frame.top - 1 || box.bottom > frame.bottom + 1 ||
                        box.left < frame.left - 1 || box.right > frame.right + 1)
                        out.push(`${part.className.split(' ')[1] || part.className} at ` +
                                 `(${Math.round(box.left)}, ${Math.round(box.top)}), map at ` +
                                 `(${Math.round(frame.left)}, ${Math.round(frame.top)})–` +
                                 `(${Math.round(frame.right)}, ${Math.round(frame.bottom)}); ` +
                                 `map position: ${getComputedStyle(map).position}`);
                }
            }
            return out;
        }""")
        problems += [f"{here(page)} at {viewport['width']} px: {entry}" for entry in escaped]
    assert not problems, "the map's controls left the map:\n" + "\n".join(problems)


def test_the_persona_picker_signs_in(page, world, check_axe):
    store(page, {TENANT_KEY: world["values"]["tenant"], LANGUAGE_KEY: "de"})
    open_route(page, "#/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    # The test stack has no demo municipalities: the personas are all in the folded list of
    # other municipalities.
    folded = page.locator("main details:not([open]) > summary")
    if folded.count():
        folded.first.click()
    persona = page.get_by_role("button", name="Anmelden als", exact=False).first
    expect(persona).to_be_visible(timeout=SLOW_MS)
    check_axe(page, "#/sign-in (personas)")
    name = persona.inner_text().removeprefix("Anmelden als ").strip()
    persona.click()
    expect(page.get_by_role("banner").get_by_text(f"Angemeldet als {name}")).to_be_visible(
        timeout=SLOW_MS)
    expect(page).to_have_url(re.compile(r"#/my$"))
    stored = page.evaluate("JSON.parse(localStorage.getItem('engage.session'))")
    assert stored and stored["token"] and stored["sub"].startswith("demo-"), stored

"""Browser tests: the web app in a real Chromium, driven by Playwright, on the session stack.

- `browser`: one headless Chromium (Debian's /usr/bin/chromium; `playwright install` never runs)
  for all browser tests. Playwright's sync API marks its own asyncio loop as the thread's running
  loop between calls, which would break the async tests that follow, so the browser lives for
  this package (tests/browser) and is closed before any other test runs.
- `page`: a fresh context (cookies, localStorage) and page per test, at 1280x800, on the gateway.
- `people`: creates tenants, identities and actors through the API, with unique names, so no
  test depends on another or on demo data (the test stack is not seeded).
- `sign_in(page, kind, tenant=None)`: a new person of that kind (volunteer, association,
  company, tenant_admin, operator), signed in in the browser; returns its identity.
- `shoot(page, name)`: a screenshot of the viewport into docs/screenshots/<name>-<width>.png.
- `check_axe(page)`: fails on any critical or serious axe-core violation, listing each.
- `no_horizontal_overflow(page)`, `too_small_targets(page)`, `set_language(page, "en")`,
  `open_route(page, "#/search")`.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.api import PublicApi, unique

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 # German browser UI (on Linux the language comes from BROWSER_ENV instead)
                 "--lang=de-DE"]
# The browser's own date and time fields follow its UI language, not the page's: German formats
# (TT.MM.JJJJ, 24 hours) need LANGUAGE=de, which Chromium on Linux reads instead of --lang, and
# Debian's chromium-l10n (without its de.pak Chromium falls back to en-US: MM/DD/YYYY, AM/PM).
BROWSER_ENV = {**os.environ, "LANGUAGE": "de"}
AXE_SCRIPT = HERE / "node_modules" / "axe-core" / "axe.min.js"
# Every page the tests visit, to look at after a run (.data/ is ignored by git); `make
# screenshots` copies the README tour's pictures from there into docs/screenshots.
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or REPO_ROOT / ".data" / "screenshots")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
# The client keeps its session and language in localStorage (gateway/web/js/core/session.js, i18n.js).
SESSION_KEY = "engage.session"
LANGUAGE_KEY = "lang"
TENANT_KEY = "engage.tenant"  # the municipality chosen in the header (gateway/web/js/main.js)
# Generous: matching and notifications are asynchronous, the machine has two shared cores.
SLOW_MS = 60_000

ROLES_OF_KIND = {
    "volunteer": ("member",),
    "association": ("member", "org_admin"),
    "company": ("member", "org_admin"),
    "education": ("member", "org_admin"),
    "initiative": ("member", "org_admin"),
    "tenant_admin": ("member", "tenant_admin"),
    "operator": ("operator",),
}
ACTOR_TYPE_OF_KIND = {"volunteer": "person", "association": "association", "company": "company",
                      "education": "education", "initiative": "initiative"}
ACTOR_NAMES = {"volunteer": "Jana Beispiel", "association": "Bürgerverein Beispiel e. V.",
               "company": "Beispiel GmbH", "education": "Grundschule Beispiel",
               "initiative": "Initiative Beispiel"}
MUENSTER = {"lat": 51.9607, "lon": 7.6261}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# ---- the browser -------------------------------------------------------------------------------
@pytest.fixture(scope="package")
def browser():
    # Checked before the stack starts: a missing browser fails at once, never skips.
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: the browser tests need Debian's chromium "
                    "(`make install` installs it with apt, or set CHROMIUM_PATH)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: `make install` (requirements.txt)",
                    pytrace=False)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              env=BROWSER_ENV)
    except Exception as error:
        playwright.stop()
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}", pytrace=False)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="package")
def gateway_url(stack) -> str:
    return stack.url("gateway")


@pytest.fixture
def new_page(browser, gateway_url):
    """`new_page()` -> a page in a context of its own (a second person at another computer);
    closed at the end of the test. `page.problems` collects uncaught script errors."""
    contexts = []

    def make(viewport: dict = DESKTOP):
        context = browser.new_context(base_url=gateway_url, viewport=viewport, locale="de-DE",
                                      timezone_id="Europe/Berlin", accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        page.problems = problems  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


# ---- people and data through the API --------------------------------------------------------------
@dataclass
class Person:
    kind: str
    sub: str
    tenant: str
    roles: tuple[str, ...]
    headers: dict
    name: str = ""
    email: str = ""
    actor_id: str | None = None
    location: dict = field(default_factory=dict)


@pytest.fixture(scope="package")
def api(stack):
    client = PublicApi(stack.url("gateway"))
    yield client
    client.close()


class People:
    """Unique tenants, identities and actors, made through the public API."""

    def __init__(self, api: PublicApi):
        self.api = api

    def tenant(self, name: str = "Münster", centre: dict = MUENSTER) -> str:
        return self.api.new_tenant(name, centre)

    def person(self, kind: str, tenant: str, *, name: str | None = None,
               location: dict | None = None, with_actor: bool = True) -> Person:
        if kind not in ROLES_OF_KIND:
            raise ValueError(f"unknown persona kind {kind!r}: one of {sorted(ROLES_OF_KIND)}")
        roles = ROLES_OF_KIND[kind]
        sub = unique(kind.replace("_", "-"))
        headers = self.api.login(sub, tenant, *roles)
        person = Person(kind=kind, sub=sub, tenant=tenant, roles=roles, headers=headers,
                        location=location or MUENSTER)
        if with_actor and kind in ACTOR_TYPE_OF_KIND:
            suffix = sub.rsplit("-", 1)[-1]
            person.name = name or f"{ACTOR_NAMES[kind]} {suffix}"
            person.email = f"{sub}@example.org"
            person.actor_id = self.api.new_actor(headers, type=ACTOR_TYPE_OF_KIND[kind],
                                                 name=person.name, location=person.location,
                                                 email=person.email)
        return person


@pytest.fixture(scope="package")
def people(api) -> People:
    return People(api)


def store(page, entries: dict[str, str]) -> None:
    """Puts `entries` into the app's localStorage. Before the page's first navigation this costs
    no page load: an init script stores them once (the next navigation opens the app with them);
    on a loaded app they are stored and the app reloads."""
    if not page.url.startswith("http"):
        page.add_init_script(
            "(() => { if (sessionStorage.getItem('engage.test.stored')) return;"
            f" const entries = {json.dumps(entries)};"
            " for (const [key, value] of Object.entries(entries)) localStorage.setItem(key, value);"
            " sessionStorage.setItem('engage.test.stored', '1'); })();")
        return
    page.evaluate("(entries) => { for (const [key, value] of Object.entries(entries))"
                  " localStorage.setItem(key, value); }", entries)
    page.reload()


def session_entries(person: Person, token: str) -> dict[str, str]:
    """The session as gateway/web/js/core/session.js stores it, and the person's municipality
    as the header's choice."""
    state = {"token": token, "sub": person.sub, "tenant": person.tenant,
             "roles": list(person.roles), "label": person.name or person.sub,
             "actorId": person.actor_id, "expiresAt": None}
    return {SESSION_KEY: json.dumps(state), TENANT_KEY: person.tenant}


def put_session(page, person: Person, token: str | None = None, **extra: str) -> None:
    """Signs `person` in the way the client does it itself (see `store`); `extra` entries
    (e.g. `lang="en"`) are stored with it."""
    token = token or person.headers["Authorization"].removeprefix("Bearer ")
    store(page, {**session_entries(person, token), **extra})


@pytest.fixture
def sign_in(people, api):
    """`sign_in(page, "association")` -> a new association admin (and its actor) in a new tenant,
    signed in in the browser. `tenant=` joins an existing tenant instead.

    Each call makes a person of its own (unique sub): the dev persona picker (#/sign-in) offers only
    the fixed demo personas, which tests must not share (one of them deletes its account); the
    picker itself is exercised in test_pages.py. So the session is stored as the client stores it.
    """

    def sign_in(page, kind: "str | Person", tenant: str | None = None, **person_options) -> Person:
        """`kind` may also be a Person made earlier (`people.person(...)`): signs that one in."""
        if isinstance(kind, Person):
            person = kind
        else:
            person = people.person(kind, tenant or people.tenant(), **person_options)
        put_session(page, person)
        return person

    return sign_in


# ---- looking at pages -------------------------------------------------------------------------------
def open_route(page, route: str, *, heading: bool = True) -> None:
    """Goes to a hash route and waits until the page rendered (its <h1> is there)."""
    if not page.url.startswith("http"):
        page.goto("/" + route)
    else:
        page.evaluate("(hash) => { window.location.hash = hash; }", route)
    if heading:
        from playwright.sync_api import expect

        expect(page.locator("main h1").first).to_be_visible(timeout=SLOW_MS)
    page.wait_for_load_state("networkidle")


def set_language(page, language: str) -> None:
    """Stores the language the client reads at start (localStorage "lang") and reloads."""
    if not page.url.startswith("http"):
        page.goto("/")
    store(page, {LANGUAGE_KEY: language})
    page.wait_for_load_state("networkidle")


def switch_language(page, language: str) -> None:
    """Switches with the header's language button (no reload), when it is not already `language`."""
    from playwright.sync_api import expect

    if page.locator("html").get_attribute("lang") != language:
        page.locator("#lang-toggle").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.wait_for_load_state("networkidle")


@pytest.fixture(scope="package")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@pytest.fixture
def shoot(screenshots_dir):
    """`shoot(page, "search")` -> docs/screenshots/search-1280.png at the current viewport width
    (the viewport; the whole page only when it is at most a quarter higher than the viewport)."""

    def shoot(page, name: str) -> Path:
        size = page.viewport_size or DESKTOP
        path = screenshots_dir / f"{_slug(name)}-{size['width']}.png"
        height = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(path), full_page=height <= size["height"] * 1.25,
                        animations="disabled", caret="hide")
        return path

    return shoot


_AXE_SOURCE: list[str] = []


def _axe_source() -> str:
    if not _AXE_SOURCE:
        _AXE_SOURCE.append(AXE_SCRIPT.read_text())
    return _AXE_SOURCE[0]


def axe_violations(page, impacts=("critical", "serious")) -> list[dict]:
    if not AXE_SCRIPT.exists():
        pytest.fail(f"axe-core is missing at {AXE_SCRIPT}: `make install` runs npm ci in "
                    "tests/browser", pytrace=False)
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the app's Content-Security-Policy
        # (script-src 'self') allows, unlike an injected <script> tag.
        page.evaluate(_axe_source() + "\n;undefined")
    result = page.evaluate("""async () => {
        const result = await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
            resultTypes: ["violations"]});
        return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            helpUrl: v.helpUrl,
            nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary,
                                        html: n.html.slice(0, 160)}))}));
    }""")
    return [v for v in result if v["impact"] in impacts]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} "
                     f"({violation['helpUrl']})")
        for node in violation["nodes"][:8]:
            lines.append(f"    at {node['target']}: {node['html']}")
            summary = (node["summary"] or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    ... and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


@pytest.fixture
def check_axe():
    """Fails on any critical or serious axe-core violation (WCAG 2.1 A/AA and best practices),
    with rule, target and help for each."""

    def check_axe(page, where: str = "") -> None:
        violations = axe_violations(page)
        if violations:
            pytest.fail(f"axe found {len(violations)} critical/serious violation(s) on "
                        f"{where or page.url} at {page.viewport_size['width']} px:\n"
                        f"{describe_violations(violations)}", pytrace=False)

    return check_axe


def horizontal_overflow(page, settle_ms: int = 3_000) -> dict | None:
    """None when nothing sticks out sideways, else the widths and the widest offenders. Waits up
    to `settle_ms` first: right after a resize, Leaflet redraws its map a moment later."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        # A function, not an expression: the app's CSP (no 'unsafe-eval') refuses evaluated strings.
        page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth",
                               timeout=settle_ms)
        return None
    except PlaywrightTimeout:
        pass
    sizes = page.evaluate("""() => {
        const width = window.innerWidth, scroll = document.documentElement.scrollWidth;
        const wide = [];
        if (scroll > width) {
            for (const el of document.querySelectorAll("body *")) {
                const box = el.getBoundingClientRect();
                if (box.right > width + 1 && box.width > 0)
                    wide.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}` +
                              `${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : ""}` +
                              ` right=${Math.round(box.right)}`);
                if (wide.length >= 8) break;
            }
        }
        return {width, scroll, wide};
    }""")
    return None if sizes["scroll"] <= sizes["width"] else sizes


def too_small_targets(page, min_px: int = 44) -> list[str]:
    """Controls in <main> narrower or lower than `min_px` (the app's minimum, WCAG 2.5.5): hard to
    hit with a finger. Links in running text and checkboxes (their label is the target) do not
    count."""
    return page.evaluate("""(min) => {
        const small = [];
        for (const el of document.querySelectorAll("main button:not(.link-button), main select, " +
                "main textarea, main summary, main input:not([type=checkbox]):not([type=radio])")) {
            const box = el.getBoundingClientRect();
            if (!box.width || !box.height || el.closest(".visually-hidden")) continue;  // not shown
            if (box.width < min - 0.5 || box.height < min - 0.5) {
                const name = (el.getAttribute("aria-label") || el.innerText || el.name || "").trim();
                small.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${name.slice(0, 40)}" ` +
                           `${Math.round(box.width)}x${Math.round(box.height)}`);
            }
        }
        return small;
    }""", min_px)


@pytest.fixture
def no_horizontal_overflow():
    def check(page, where: str = "") -> None:
        overflow = horizontal_overflow(page)
        if overflow:
            pytest.fail(f"{where or page.url} overflows sideways at {overflow['width']} px: "
                        f"scrollWidth {overflow['scroll']}; widest: {overflow['wide']}",
                        pytrace=False)

    return check


# ---- mail ---------------------------------------------------------------------------------------
@pytest.fixture(scope="package")
def mailbox(stack):
    """`mailbox(address)` -> the mails the stack's SMTP sink received for that address."""
    import httpx

    def mails_to(address: str) -> list[dict]:
        answer = httpx.get(stack.url("mail_http") + "/api/messages", params={"to": address},
                           timeout=10)
        answer.raise_for_status()
        return answer.json()

    return mails_to


def links_in(mail: dict) -> list[str]:
    text = " ".join(str(mail.get(part) or "") for part in ("text", "html"))
    return re.findall(r"https?://[^\s\"'<>)]+", text)


# ---- keyboard -----------------------------------------------------------------------------------
def tab_to(page, target, *, max_presses: int = 80, backwards: bool = False) -> int:
    """Presses Tab (Shift+Tab) until `target` (a locator) has the focus; returns how many presses
    it took. Fails when it never gets there, or when the focus is not visible there."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(1, max_presses + 1):
        page.keyboard.press(key)
        if target.evaluate("(el) => el === document.activeElement"):
            visible = target.evaluate("(el) => el.matches(':focus-visible')")
            assert visible, f"the keyboard focus on {target} is not visible (:focus-visible)"
            return presses
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"{max_presses} x {key} never reached {target}; the focus is on {focused}")


# ---- a Verein's need and a volunteer's offer that match ---------------------------------------------
@dataclass
class Pair:
    tenant: str
    verein: Person
    volunteer: Person
    need: dict
    offer: dict


def north_of(point: dict, km: float) -> dict:
    return {"lat": round(point["lat"] + km / 111.2, 5), "lon": point["lon"]}


@pytest.fixture(scope="package")
def matched_pair(people, api):
    """`matched_pair("Dorsten", {"lat":..., "lon":...})` -> a new tenant there, a Verein with a
    need and a volunteer with an offer 2 km away, both made through the API; waits until the
    matcher paired them (contact requests need a current match)."""
    from tests.support.api import item_body
    from tests.support.waiting import eventually_sync

    def make(town: str, centre: dict, *, wait_for_match: bool = True) -> Pair:
        tenant = people.tenant(town, centre)
        verein = people.person("association", tenant, location=centre,
                               name=f"Förderverein {town} {unique('fv').rsplit('-', 1)[-1]}")
        volunteer = people.person("volunteer", tenant, location=north_of(centre, 2))
        saturday = {"dates": [], "weekly": [{"day": "sat", "start": "09:00", "end": "13:00"}]}
        need = api.http.post("/needs", json=item_body(
            verein.actor_id, centre, title=f"Lesepatinnen und Lesepaten in {town} {unique('n')}",
            categories=["education"], skills=["vorlesen"], engagement="regular", radius_km=10,
            schedule=saturday), headers=verein.headers)
        assert need.status_code == 201, need.text
        offer = api.http.post("/offers", json=item_body(
            volunteer.actor_id, north_of(centre, 2), title=f"Ich lese gern vor {unique('o')}",
            categories=["education"], skills=["vorlesen"], engagement="regular", radius_km=10,
            schedule=saturday), headers=volunteer.headers)
        assert offer.status_code == 201, offer.text
        pair = Pair(tenant, verein, volunteer, need.json(), offer.json())
        if wait_for_match:
            eventually_sync(lambda: any(m["offer_id"] == pair.offer["id"] for m in api.http.get(
                f"/needs/{pair.need['id']}/matches", headers=verein.headers).json().get("items", [])),
                timeout_s=60, interval_s=0.5, message="the match of the offer and the need")
        return pair

    return make

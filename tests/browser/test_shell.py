"""The web app loads at / in a real browser: a title, no critical or serious accessibility
violation and nothing wider than the screen, on a desktop and a phone, in German and English."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, SLOW_MS, set_language

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_the_app_loads_titled_accessible_and_fits_the_screen(page, language, viewport, check_axe,
                                                               no_horizontal_overflow):
    page.set_viewport_size(viewport)
    page.goto("/")
    set_language(page, language)
    expect(page.locator("html")).to_have_attribute("lang", language, timeout=SLOW_MS)
    expect(page.locator("main h1").first).to_be_visible(timeout=SLOW_MS)
    assert page.title().strip(), "the page has a title"
    assert not page.problems, page.problems
    check_axe(page, f"/ ({language})")
    no_horizontal_overflow(page, f"/ ({language})")

"""The widget a municipality embeds on its own website: its current needs, framed by another
page, each linking to the platform; the administration page gives the code to copy."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SLOW_MS, open_route
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.browser


@contextmanager
def serving(page_html: str):
    """A web server of another origin (another port) with one page; yields its URL."""
    body = page_html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/ehrenamt"
    finally:
        server.shutdown()
DORSTEN = {"lat": 51.6606, "lon": 6.9652}


def test_a_website_frames_the_needs_widget_from_the_code_the_admin_copies(
        matched_pair, people, api, sign_in, page, new_page, gateway_url, shoot, check_axe):
    pair = matched_pair("Dorsten", DORSTEN, wait_for_match=False)
    eventually_sync(lambda: pair.need["id"] in api.search_ids(kind="need", tenant=pair.tenant),
                    timeout_s=60, message="the need in search")  # the widget reads it once
    admin = people.person("tenant_admin", pair.tenant)
    sign_in(page, admin)
    open_route(page, "#/admin/widget")
    code = page.get_by_label("Code für Ihre Website").input_value()
    assert f"/embed/needs?tenant={pair.tenant}" in code and code.startswith("<iframe ")
    page.get_by_role("button", name="Vorschau anzeigen").click()
    preview = page.frame_locator("iframe.widget-preview")
    expect(preview.get_by_role("link", name=pair.need["title"])).to_be_visible(timeout=SLOW_MS)
    shoot(page, "admin-widget-preview")

    # The municipality's own website, another origin (any may frame /embed/): the snippet as
    # pasted into one of its pages, served by a small web server of its own.
    page_html = (f"<!doctype html><html lang='de'><head><title>Stadt Dorsten</title></head>"
                 f"<body><main><h1>Ehrenamt in Dorsten</h1>{code}</main></body></html>")
    website = new_page()
    with serving(page_html) as site:
        website.goto(site)
        widget = website.frame_locator("iframe")
        link = widget.get_by_role("link", name=pair.need["title"])
        expect(link).to_be_visible(timeout=SLOW_MS)
        assert link.get_attribute("href") == f"/#/needs/{pair.need['id']}"
        assert link.get_attribute("target") == "_blank"
        expect(widget.get_by_role("heading", name="Aktuelle Gesuche in Dorsten")).to_be_visible()

    alone = new_page()
    alone.goto(f"{gateway_url}/embed/needs?tenant={pair.tenant}&lang=en")
    expect(alone.get_by_role("heading", name="Current needs in Dorsten")).to_be_visible(
        timeout=SLOW_MS)
    check_axe(alone, "the needs widget")
    shoot(alone, "widget")

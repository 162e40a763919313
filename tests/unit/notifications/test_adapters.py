"""The parts of the SMTP and webhook adapters that need no server."""
from __future__ import annotations

import asyncio
import socket
from email import message_from_bytes, policy

import httpx
import pytest

from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.adapters.webhook import HttpWebhookSender
from services.notifications.domain.messages import Mail
from services.notifications.domain.webhooks import AllowedTargets, DeliveryFailed


def test_mail_has_text_and_html_parts_and_the_extra_headers():
    mailer = SmtpMailer(host="127.0.0.1", port=1, sender="Plattform <noreply@example.org>",
                        timeout_s=1)
    built = mailer.build(to="a@example.org", mail=Mail(subject="Grüße", text="Hallo ä",
                                                       html="<p>Hallo ä</p>"),
                         headers={"List-Unsubscribe": "<https://u>"})
    # What the recipient's client reads: the mail as it goes over the wire.
    message = message_from_bytes(built.as_bytes(), policy=policy.default)
    assert message["To"] == "a@example.org" and message["Subject"] == "Grüße"
    assert message["List-Unsubscribe"] == "<https://u>"
    assert message.get_body(("plain",)).get_content().strip() == "Hallo ä"
    assert message.get_body(("html",)).get_content().strip() == "<p>Hallo ä</p>"


INTERNAL_URLS = ["http://127.0.0.1:9/x", "http://localhost/x", "https://169.254.169.254/latest",
                 "http://[::1]/x", "http://10.0.0.1/x", "http://[::ffff:127.0.0.1]/x",
                 "http://2130706433/x", "http://0x7f000001/x", "http://0.0.0.0/x",
                 "http://100.64.0.1/x", "http://224.0.0.1/x", "http://[fe80::1]/x"]


@pytest.mark.parametrize("url", INTERNAL_URLS)
async def test_internal_webhook_targets_are_refused_by_default(url):
    sender = HttpWebhookSender(timeout_s=1)
    try:
        with pytest.raises(ValueError, match="internal address"):
            await sender.ensure_allowed(url)
        with pytest.raises(DeliveryFailed, match="^target refused"):
            await sender.post(url, body=b"{}", headers={})
    finally:
        await sender.close()


async def test_internal_targets_are_allowed_only_where_the_allow_list_names_them():
    sender = HttpWebhookSender(timeout_s=1, allowed_targets=AllowedTargets("127.0.0.2, hooks.lan"))
    try:
        await sender.ensure_allowed("http://127.0.0.2:9/x")
        with pytest.raises(ValueError):
            await sender.ensure_allowed("http://127.0.0.1:9/x")
    finally:
        await sender.close()


async def test_a_name_that_resolves_to_an_internal_address_is_refused_at_delivery(monkeypatch):
    """DNS rebinding: the name passed at registration, now it answers 127.0.0.1."""
    sender = HttpWebhookSender(timeout_s=1)

    async def resolve(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolve)
    try:
        with pytest.raises(DeliveryFailed, match="^target refused"):
            await sender.post("https://hooks.example.org/x", body=b"{}", headers={})
    finally:
        await sender.close()


async def test_the_call_goes_to_the_checked_address_with_the_names_host_header(monkeypatch):
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(url=str(request.url), host=request.headers["host"],
                    sni=request.extensions.get("sni_hostname"))
        return httpx.Response(500, text="internal stack trace and secrets")

    sender = HttpWebhookSender(timeout_s=1)
    sender._client = httpx.AsyncClient(transport=httpx.MockTransport(handler))

    async def resolve(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolve)
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await sender.post("https://hooks.example.org/in?x=1", body=b"{}", headers={})
    finally:
        await sender.close()
    assert str(failed.value) == "delivery failed: HTTP 500", "never the target's body"
    assert seen == {"url": "https://93.184.216.34/in?x=1", "host": "hooks.example.org",
                    "sni": "hooks.example.org"}

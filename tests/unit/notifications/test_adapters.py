"""The parts of the SMTP and webhook adapters that need no server."""
from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.adapters.webhook import HttpWebhookSender
from services.notifications.domain.messages import Mail


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


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://localhost/x",
                                 "https://169.254.169.254/latest", "http://[::1]/x"])
async def test_private_webhook_targets_are_refused_where_not_allowed(url):
    sender = HttpWebhookSender(timeout_s=1, allow_private_targets=False)
    try:
        with pytest.raises(ValueError):
            await sender.ensure_allowed(url)
        with pytest.raises(ValueError):
            await sender.post(url, body=b"{}", headers={})
    finally:
        await sender.close()


async def test_private_webhook_targets_are_allowed_when_configured():
    sender = HttpWebhookSender(timeout_s=1, allow_private_targets=True)
    try:
        await sender.ensure_allowed("http://127.0.0.1:9/x")
    finally:
        await sender.close()

"""The SMTP adapter against a real SMTP server (aiosmtpd): connections are reused, and a server
that went away and came back is reconnected to without losing the mail."""
from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from deploy.local.engines import free_port
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.domain.messages import Mail

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self):
        self.mails: list[tuple[str, list[str]]] = []
        self.sessions: set[int] = set()

    async def handle_DATA(self, server, session, envelope):
        self.sessions.add(id(session))
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def start_server(port: int, recorder: Recorder) -> Controller:
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


MAIL = Mail(subject="Ein Treffer", text="Hallo", html="<p>Hallo</p>")


async def test_mails_reuse_a_connection_and_survive_a_server_restart():
    port, recorder = free_port(), Recorder()
    server = start_server(port, recorder)
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="noreply@engage.example",
                        timeout_s=5, connections=1)
    try:
        for number in range(3):
            await mailer.send(to=f"a{number}@example.org", mail=MAIL, headers={})
        assert [to for _, to in recorder.mails] == [["a0@example.org"], ["a1@example.org"],
                                                    ["a2@example.org"]]
        assert len(recorder.sessions) == 1, "three mails over one SMTP session"

        server.stop()   # the server closes our idle connection
        server = start_server(port, recorder)
        await mailer.send(to="after@example.org", mail=MAIL, headers={})
        assert recorder.mails[-1][1] == ["after@example.org"]
        assert len(recorder.sessions) == 2
    finally:
        mailer.close()
        server.stop()


async def test_a_server_that_is_down_is_an_error_the_caller_retries():
    mailer = SmtpMailer(host="127.0.0.1", port=free_port(), sender="noreply@engage.example",
                        timeout_s=2, connections=1)
    try:
        with pytest.raises(OSError):
            await mailer.send(to="a@example.org", mail=MAIL, headers={})
    finally:
        mailer.close()

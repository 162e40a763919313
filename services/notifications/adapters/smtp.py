"""Sending mail over SMTP (the standard library's client, in a worker thread)."""
from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from services.notifications.domain.messages import Mail


class SmtpMailer:
    def __init__(self, *, host: str, port: int, sender: str, timeout_s: float,
                 starttls: bool = False, username: str | None = None, password: str | None = None):
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout_s
        self._starttls, self._username, self._password = starttls, username, password

    def build(self, *, to: str, mail: Mail, headers: dict[str, str]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain="engage.notifications")
        message["Auto-Submitted"] = "auto-generated"
        for name, value in headers.items():
            message[name] = value
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message

    async def send(self, *, to: str, mail: Mail, headers: dict[str, str]) -> None:
        message = self.build(to=to, mail=mail, headers=headers)
        await asyncio.to_thread(self._send_blocking, message)

    def _send_blocking(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._username:
                smtp.login(self._username, self._password or "")
            smtp.send_message(message)

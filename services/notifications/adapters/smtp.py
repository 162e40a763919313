"""Sending mail over SMTP: the standard library's client in a small pool of sending threads,
each keeping its connection open across mails (a connection per mail costs more round trips
than the mail itself)."""
from __future__ import annotations

import asyncio
import smtplib
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from email import charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formatdate, make_msgid

from services.notifications.domain.messages import Mail

# Quoted-printable keeps the German text readable in the raw mail (utf-8 defaults to base64).
UTF8_QP = charset.Charset("utf-8")
UTF8_QP.body_encoding = charset.QP
# Headers are not folded below the RFC 5322 limit: folding a long link such as
# List-Unsubscribe would hand some clients a value with a leading space.
MAIL_POLICY = compat32.clone(max_line_length=998)


class SmtpMailer:
    def __init__(self, *, host: str, port: int, sender: str, timeout_s: float,
                 starttls: bool = False, username: str | None = None, password: str | None = None,
                 connections: int = 4):
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout_s
        self._starttls, self._username, self._password = starttls, username, password
        self._executor = ThreadPoolExecutor(max_workers=connections, thread_name_prefix="smtp")
        self._local = threading.local()
        self._open: list[smtplib.SMTP] = []
        self._open_lock = threading.Lock()

    def build(self, *, to: str, mail: Mail, headers: dict[str, str]) -> MIMEMultipart:
        # The classic `email.mime` classes: a third of the CPU of `EmailMessage` with the
        # default policy, which parses every header it is given.
        message = MIMEMultipart("alternative", policy=MAIL_POLICY)
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = Header(mail.subject, "utf-8")
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain="engage.notifications")
        message["Auto-Submitted"] = "auto-generated"
        for name, value in headers.items():
            message[name] = value
        message.attach(MIMEText(mail.text, "plain", UTF8_QP, policy=MAIL_POLICY))
        message.attach(MIMEText(mail.html, "html", UTF8_QP, policy=MAIL_POLICY))
        return message

    async def send(self, *, to: str, mail: Mail, headers: dict[str, str]) -> None:
        message = self.build(to=to, mail=mail, headers=headers)
        await asyncio.get_running_loop().run_in_executor(self._executor, self._send_blocking,
                                                         message)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._open_lock:
            connections, self._open = self._open, []
        for smtp in connections:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _send_blocking(self, message: MIMEMultipart) -> None:
        smtp = getattr(self._local, "smtp", None)
        if smtp is not None:
            try:
                smtp.send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                self._drop(smtp)  # closed while idle: once more on a fresh connection
            except (smtplib.SMTPException, OSError):
                self._drop(smtp)  # a broken connection is not reused; the caller retries
                raise
        smtp = self._connect()
        try:
            smtp.send_message(message)
        except (smtplib.SMTPException, OSError):
            self._drop(smtp)
            raise

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._username:
                smtp.login(self._username, self._password or "")
        except (smtplib.SMTPException, OSError):
            smtp.close()
            raise
        self._local.smtp = smtp
        with self._open_lock:
            self._open.append(smtp)
        return smtp

    def _drop(self, smtp: smtplib.SMTP) -> None:
        self._local.smtp = None
        with self._open_lock:
            if smtp in self._open:
                self._open.remove(smtp)
        smtp.close()

"""A local SMTP sink for the demo and the tests: accepts every mail, shows it over HTTP.

SMTP on --smtp-port (aiosmtpd); `GET /api/messages` lists the mails as JSON, `GET /` as a page.
"""
from __future__ import annotations

import argparse
import html
import json
import threading
from datetime import datetime, timezone
from email import message_from_bytes, policy
from pathlib import Path

import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.responses import HTMLResponse


class MailStore:
    """Mails are appended raw as they arrive and parsed only when somebody reads them: parsing
    costs more than receiving, and in a benchmark nobody reads most of them."""

    def __init__(self, folder: Path):
        self.file = folder / "messages.jsonl"
        self.lock = threading.Lock()
        self._parsed: list[dict] = []  # the file's first len(_parsed) mails, parsed

    def add(self, envelope_from: str, recipients: list[str], raw: bytes) -> None:
        record = {"received_at": datetime.now(timezone.utc).isoformat(),
                  "from": envelope_from, "to": recipients,
                  "raw": raw.decode("utf-8", errors="replace")}
        with self.lock, self.file.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def all(self) -> list[dict]:
        with self.lock:
            if not self.file.exists():
                return []
            lines = [line for line in self.file.read_text(encoding="utf-8").splitlines() if line]
            self._parsed += [_parsed(json.loads(line)) for line in lines[len(self._parsed):]]
            return list(self._parsed)

    def clear(self) -> None:
        with self.lock:
            self.file.unlink(missing_ok=True)
            self._parsed = []


def _parsed(record: dict) -> dict:
    message = message_from_bytes(record.pop("raw").encode("utf-8"), policy=policy.default)
    text = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    return {**record,
            "subject": str(message.get("Subject", "")),
            "headers": {key: str(value) for key, value in message.items()},
            "text": text.get_content() if text else "",
            "html": rich.get_content() if rich else ""}


class Handler:
    def __init__(self, store: MailStore):
        self.store = store

    async def handle_DATA(self, _server, _session, envelope):
        self.store.add(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        return "250 Message accepted for delivery"


def build_app(store: MailStore) -> FastAPI:
    app = FastAPI(title="Mail sink")

    @app.get("/api/messages")
    def messages(to: str | None = None):
        items = store.all()
        return [m for m in items if to is None or to in m["to"]]

    @app.delete("/api/messages")
    def clear():
        store.clear()
        return {"cleared": True}

    @app.get("/healthz")
    def healthz():
        return {"status": "alive"}

    @app.get("/", response_class=HTMLResponse)
    def page():
        rows = "".join(
            f"<details><summary>{html.escape(m['received_at'][:19])} — {html.escape(', '.join(m['to']))}"
            f" — <b>{html.escape(m['subject'])}</b></summary><pre>{html.escape(m['text'])}</pre></details>"
            for m in reversed(store.all()))
        return f"<html><head><meta charset='utf-8'><title>Mail sink</title></head><body>" \
               f"<h1>Mail sink</h1>{rows or '<p>No mail yet.</p>'}</body></html>"

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    store = MailStore(args.dir)
    controller = Controller(Handler(store), hostname="127.0.0.1", port=args.smtp_port)
    controller.start()
    try:
        uvicorn.run(build_app(store), host="127.0.0.1", port=args.http_port, log_level="warning")
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

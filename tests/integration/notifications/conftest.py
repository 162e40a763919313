"""Fixtures for the notifications integration tests: the real service on the real engines, a
producer into the real broker, and helpers to publish events and read mails and inboxes."""
from __future__ import annotations

import asyncio
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Awaitable, Callable

import httpx
import pytest

from platform_common.events import make_event
from platform_common.events.models import ActorData, ActorErasedData, ContactData, MatchData
from platform_common.kafka import EventProducer
from platform_common.settings import CommonSettings
from tests.support.identity import service_headers, user_headers

TENANT = "koeln"
# Quick retry rounds, so retries and final failures show within seconds instead of hours.
# Nothing else differs from the defaults: tests of other packages may use this instance later.
TUNED_ENV = {
    "RETRY_INTERVAL_S": "0.5", "RETRY_DELAY_INITIAL_S": "1", "RETRY_DELAY_MAX_S": "2",
    "RETRY_ROUNDS": "5", "DELIVERY_ATTEMPTS": "2", "DELIVERY_BACKOFF_INITIAL_S": "0.05",
    "DELIVERY_BACKOFF_MAX_S": "0.1", "REMINDER_CHECK_INTERVAL_S": "0.5",
}


@pytest.fixture(scope="session")
def notifications(engines):
    """The notifications service as a real process, running with TUNED_ENV (like
    `services("notifications")`, but restarted once with TUNED_ENV if it ran without)."""
    child = engines.children.get("notifications")
    if child is None or getattr(child, "tuned_for_notification_tests", False) is False:
        if child is not None:
            engines.kill("notifications")
        engines.start_service("notifications", extra_env=TUNED_ENV)
        engines.children["notifications"].tuned_for_notification_tests = True
    return engines


@pytest.fixture(scope="session")
async def producer(engines):
    events = EventProducer(CommonSettings(kafka_bootstrap_servers=engines.kafka_bootstrap,
                                          service_name="notifications-tests"))
    await events.start()
    yield events
    await events.stop()


@pytest.fixture(scope="session")
async def api(notifications):
    async with httpx.AsyncClient(base_url=notifications.url("notifications"), timeout=15) as client:
        yield client


@pytest.fixture(scope="session")
async def mail_api(engines):
    async with httpx.AsyncClient(base_url=engines.url("mail_http"), timeout=15) as client:
        yield client


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def identity(sub: str) -> dict[str, str]:
    """Headers with the identity as the gateway signs it for notifications."""
    return user_headers("notifications", sub, TENANT, "member")


def internal() -> dict[str, str]:
    """A service credential: /internal/* answers only the notifications service's own (the
    admin command signs with it)."""
    return service_headers("notifications", caller="notifications")


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 15,
                     what: str = "condition") -> Any:
    """Poll until `check` returns something truthy (eventual consistency), then return it."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s (last: {last!r})")


@dataclass
class Actor:
    id: str
    sub: str
    email: str
    locale: str = "de"
    name: str = "Tafel Köln e.V."
    version: int = 1

    @property
    def headers(self) -> dict[str, str]:
        return identity(self.sub)


@dataclass
class Platform:
    """What the other services would publish, and what a user and the mail sink see."""

    producer: EventProducer
    api: httpx.AsyncClient
    mail_api: httpx.AsyncClient
    stack: Any
    sent: list = field(default_factory=list)

    async def register(self, *, locale: str = "de", name: str = "Tafel Köln e.V.",
                       email: str | None = None) -> Actor:
        actor_id = new_id("actor")
        actor = Actor(id=actor_id, sub=new_id("user"), email=email or f"{actor_id}@example.org",
                      locale=locale, name=name)
        await self.publish_actor(actor)
        await eventually(lambda: self._known(actor), what=f"{actor.id} known to notifications")
        return actor

    async def publish_actor(self, actor: Actor, *, event: str = "actor.registered",
                            key: str | None = None) -> None:
        data = ActorData(id=actor.id, tenant=TENANT, type="association", name=actor.name,
                         location={"lat": 50.94, "lon": 6.96}, email=actor.email,
                         locale=actor.locale, owners=[actor.sub], version=actor.version)
        await self.producer.publish(make_event(event, tenant=TENANT, subject=actor.id,
                                               source="tests", data=data), key=key)

    async def erase(self, actor: Actor) -> None:
        data = ActorErasedData(id=actor.id, tenant=TENANT, version=actor.version + 1)
        await self.producer.publish(make_event("actor.erased", tenant=TENANT, subject=actor.id,
                                               source="tests", data=data))

    async def _known(self, actor: Actor) -> bool:
        response = await self.api.get("/me/notification-preferences", headers=actor.headers)
        return response.status_code == 200 and any(
            item["actor_id"] == actor.id for item in response.json()["items"])

    def match_event(self, *, offer_actor: Actor, need_actor: Actor, offer_id: str | None = None,
                    need_id: str | None = None, score: float = 0.87,
                    offer_title: str = "Fahrdienst mit Kleinbus",
                    need_title: str = "Fahrerin für die Lebensmittelausgabe",
                    kind: str = "match.found"):
        offer_id, need_id = offer_id or new_id("offer"), need_id or new_id("need")
        data = MatchData(
            offer={"id": offer_id, "actor_id": offer_actor.id, "tenant": TENANT, "title": offer_title},
            need={"id": need_id, "actor_id": need_actor.id, "tenant": TENANT, "title": need_title},
            score=score,
            reasons=[
                {"factor": "distance", "value": 0.9, "weight": 0.2, "contribution": 0.18,
                 "label": {"de": "Nur 3 km entfernt", "en": "Only 3 km away"}},
                {"factor": "categories", "value": 1.0, "weight": 0.3, "contribution": 0.3,
                 "label": {"de": "Gleiches Handlungsfeld: Soziales",
                           "en": "Same field: social welfare"}},
                {"factor": "skills", "value": 0.5, "weight": 0.2, "contribution": 0.1,
                 "label": {"de": "Führerschein vorhanden", "en": "Has a driving licence"}},
                {"factor": "language", "value": 0.1, "weight": 0.1, "contribution": 0.01,
                 "label": {"de": "Sprache Deutsch", "en": "Speaks German"}},
            ])
        return make_event(kind, tenant=TENANT, subject=f"{offer_id}:{need_id}", source="tests",
                          data=data)

    async def publish(self, envelope, *, key: str | None = None) -> None:
        # Match events of one need share a partition (key = need id), so they arrive in order.
        if key is None and envelope.type.startswith("match."):
            key = envelope.data["need"]["id"]
        await self.producer.publish(envelope, key=key)

    async def contact(self, *, status: str, contact_id: str, requester: Actor, recipient: Actor,
                      version: int, message: str = "") -> None:
        data = ContactData(id=contact_id, offer_id=new_id("offer"), need_id=new_id("need"),
                           requester_actor_id=requester.id, recipient_actor_id=recipient.id,
                           requester_tenant=TENANT, recipient_tenant=TENANT, message=message,
                           status=status, version=version)
        await self.producer.publish(make_event(f"contact.{status}", tenant=TENANT,
                                               subject=contact_id, source="tests", data=data))

    async def mails(self, address: str) -> list[dict]:
        response = await self.mail_api.get("/api/messages", params={"to": address})
        response.raise_for_status()
        return response.json()

    async def inbox(self, actor: Actor, **params) -> dict:
        response = await self.api.get("/me/notifications", headers=actor.headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def deliveries(self, actor: Actor) -> list[dict]:
        response = await self.api.get("/me/deliveries", headers=actor.headers,
                                      params={"limit": 100})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def metric(self, name: str, labels: str) -> float:
        text = (await self.api.get(self.stack.metrics_url("notifications"))).text
        for line in text.splitlines():
            if line.startswith(f"{name}{{{labels}}}"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


@pytest.fixture
async def platform(producer, api, mail_api, notifications) -> Platform:
    return Platform(producer=producer, api=api, mail_api=mail_api, stack=notifications)


class WebhookReceiver:
    """A tiny HTTP server on a free local port that records what is posted to it."""

    def __init__(self, status: int = 200, host: str = "127.0.0.2", body: bytes = b""):
        self.status = status
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                return

        # 127.0.0.2: the one internal address the test stack allows (WEBHOOK_ALLOWED_TARGETS).
        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/hooks/engage"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def json_bodies(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]

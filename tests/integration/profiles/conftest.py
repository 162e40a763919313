"""Profiles integration fixtures: the real profiles API and relay, a client, the outbox, Kafka.

Tests share one session database, so every test builds its own tenants with unique ids.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Callable
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from platform_common.events import TOPIC_MATCHES, make_event, utcnow
from platform_common.events.models import MatchData

from tests.support.identity import sub_of, user_headers  # noqa: F401 (sub_of: for the tests)


def identity(sub: str, tenant: str, *roles: str) -> dict[str, str]:
    """Headers with the identity as the gateway signs it for profiles."""
    return user_headers("profiles", sub, tenant, *roles)


def operator() -> dict[str, str]:
    return identity("test-operator", "land", "operator")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def in_days(days: float, hours: int = 10) -> str:
    moment = datetime.now(timezone.utc) + timedelta(days=days)
    return moment.replace(hour=hours, minute=0, second=0, microsecond=0).isoformat()


def offer_body(actor_id: str, **overrides) -> dict:
    body = {
        "actor_id": actor_id, "title": "Hilfe beim Einkaufen",
        "description": "Ich gehe für ältere Nachbarn einkaufen.",
        "categories": ["elderly", "neighbourhood"], "skills": ["einkaufen"],
        "requirements": ["driving_licence"], "engagement": "regular",
        "location": {"lat": 51.9435, "lon": 7.1681}, "place_name": "Coesfeld Innenstadt",
        "radius_km": 5, "remote": False,
        "schedule": {"dates": [{"start": in_days(7, 10), "end": in_days(7, 12)}],
                     "weekly": [{"day": "sat", "start": "09:00", "end": "12:00"}]},
        "capacity": 2, "visibility": "tenant", "languages": ["de"], "accessible": True,
    }
    body.update(overrides)
    return body


def match_event(offer: dict, need: dict, *, type: str = "match.found", at=None) -> bytes:
    """A `matches` event about the pair, as the matching service publishes it."""
    data = MatchData.model_validate({
        kind: {"id": item["id"], "actor_id": item["actor_id"], "tenant": item["tenant"],
               "title": item["title"]} for kind, item in (("offer", offer), ("need", need))}
        | {"score": 0.8})
    envelope = make_event(type, tenant=need["tenant"], subject=f"{offer['id']}:{need['id']}",
                          source="matching", data=data)
    return envelope.model_copy(update={"occurred_at": at or utcnow()}).to_bytes()


@dataclass
class Profiles:
    """A client of the profiles API plus helpers to build test data through it."""

    http: httpx.AsyncClient
    # Publishes to the `matches` topic like the matching service (None: not available).
    matches: AIOKafkaProducer | None = None
    # Whether the session runs the matching worker, which announces real matches itself.
    matching_runs: Callable[[], bool] = lambda: False

    async def announce(self, offer: dict, need: dict, *, type: str = "match.found",
                       at=None) -> None:
        """Tell profiles (its relay consumes `matches`) that the pair was found or withdrawn."""
        await self.matches.send_and_wait(TOPIC_MATCHES, match_event(offer, need, type=type, at=at),
                                         key=f"{offer['id']}:{need['id']}".encode())

    async def tenant(self, *, neighbours: list[str] | None = None, **extra) -> dict:
        body = {"id": unique("t"), "name": "Testhausen", "center": {"lat": 51.9, "lon": 7.2},
                "neighbours": neighbours or [], **extra}
        response = await self.http.post("/tenants", json=body, headers=operator())
        assert response.status_code == 201, response.text
        return response.json()

    async def actor(self, headers: dict, **overrides) -> dict:
        body = {"type": "association", "name": "Sportverein Testhausen e.V.",
                "email": "vorstand@sv-test.example", "location": {"lat": 51.9, "lon": 7.2},
                **overrides}
        response = await self.http.post("/actors", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def item(self, kind: str, headers: dict, actor_id: str, **overrides) -> dict:
        response = await self.http.post(f"/{kind}s", json=offer_body(actor_id, **overrides),
                                        headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def member_with_actor(self, tenant: str, **actor_overrides) -> tuple[dict, dict]:
        headers = identity(unique("user"), tenant)
        return headers, await self.actor(headers, **actor_overrides)


@pytest.fixture(scope="session")
def profiles_stack(services):
    return services("profiles", "profiles-relay")


@pytest.fixture(scope="session")
async def matches_producer(profiles_stack):
    producer = AIOKafkaProducer(bootstrap_servers=profiles_stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        yield producer
    finally:
        await asyncio.gather(producer.stop(), return_exceptions=True)


@pytest.fixture
async def profiles(profiles_stack, matches_producer):
    async with httpx.AsyncClient(base_url=profiles_stack.url("profiles"), timeout=20) as http:
        yield Profiles(http, matches_producer,
                       lambda: "matching-worker" in profiles_stack.children)


@pytest.fixture
async def profiles_db(profiles_stack):
    client = AsyncMongoClient(profiles_stack.mongo_uri, tz_aware=True)
    try:
        yield client["profiles"]
    finally:
        await client.close()


@dataclass
class TopicLog:
    """Every event seen on the profiles topics since the session started reading them."""

    records: list = field(default_factory=list)

    def events(self, *, subject: str | None = None, type_prefix: str = "") -> list[dict]:
        found = []
        for record in self.records:
            envelope = json.loads(record.value)
            if (subject is None or envelope["subject"] == subject) and \
                    envelope["type"].startswith(type_prefix):
                found.append({**envelope, "_key": record.key.decode() if record.key else None,
                              "_topic": record.topic})
        return found


@pytest.fixture(scope="session")
async def topic_log(profiles_stack):
    """Reads tenants, actors, items, contacts and engagements from the beginning in the
    background."""
    log = TopicLog()
    consumer = AIOKafkaConsumer("tenants", "actors", "items", "contacts", "engagements",
                                bootstrap_servers=profiles_stack.kafka_bootstrap,
                                group_id=f"profiles-tests-{uuid.uuid4().hex}",
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                session_timeout_ms=6000)
    await consumer.start()

    async def read():
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                log.records.extend(records)

    task = asyncio.create_task(read())
    try:
        yield log
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # A fetch the broker timed out under load ends in CancelledError inside stop(): closing
        # the session's reader must not fail the last test (it did after the fuzzer's run).
        await asyncio.gather(consumer.stop(), return_exceptions=True)


async def wait_for_events(log: TopicLog, *, subject: str, count: int = 1,
                          timeout_s: float = 15) -> list[dict]:
    """The events about `subject` once at least `count` arrived (eventual consistency)."""
    from tests.support.waiting import eventually

    async def arrived():
        events = log.events(subject=subject)
        return events if len(events) >= count else None

    return await eventually(arrived, timeout_s=timeout_s, message=f"{count} event(s) of {subject}")

"""Matching integration fixtures: the real worker, API, profiles and engines of the session.

Every test builds its own tenants with unique ids (items only see their own run's tenants),
so tests do not disturb each other's match sets.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pymongo import AsyncMongoClient

from platform_common.events import Envelope, TOPIC_MATCHES
from platform_common.kafka import EventProducer
from platform_common.settings import CommonSettings
from tests.support.identity import user_headers

pytestmark = pytest.mark.integration


def headers(sub: str, tenant: str, *roles: str) -> dict[str, str]:
    """The identity signed as the gateway would, here for both services the tests call."""
    return user_headers(["profiles", "matching"], sub, tenant, *roles)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def matching_stack(services):
    return services("profiles", "profiles-relay", "matching", "matching-worker")


@pytest.fixture
async def api(matching_stack):
    async with httpx.AsyncClient(base_url=matching_stack.url("matching"), timeout=20) as client:
        yield client


@pytest.fixture
async def profiles(matching_stack):
    async with httpx.AsyncClient(base_url=matching_stack.url("profiles"), timeout=20) as client:
        yield client


@pytest.fixture
async def matching_db(matching_stack):
    client = AsyncMongoClient(matching_stack.mongo_uri_for("matching"), tz_aware=True)
    try:
        yield client["matching"]
    finally:
        await client.close()


@pytest.fixture
async def producer(matching_stack):
    settings = CommonSettings(kafka_bootstrap_servers=matching_stack.kafka_bootstrap,
                              service_name="matching-tests")
    producer = EventProducer(settings)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def publish_all(producer: EventProducer, events: list[Envelope], *,
                      keys: list[str] | None = None, chunk: int = 500) -> None:
    """Publish in order per key (each chunk's sends overlap; chunks follow each other)."""
    for start in range(0, len(events), chunk):
        part = events[start:start + chunk]
        part_keys = (keys or [e.subject for e in events])[start:start + chunk]
        await asyncio.gather(*(producer.publish(e, key=k) for e, k in zip(part, part_keys)))


@dataclass
class MatchLog:
    """Every event on `matches` since the session started reading, in topic order per key."""

    events: list[dict] = field(default_factory=list)

    def for_pair(self, offer_id: str, need_id: str) -> list[dict]:
        return [e for e in self.events if e["subject"] == f"{offer_id}:{need_id}"]

    def involving(self, item_ids: set[str]) -> list[dict]:
        return [e for e in self.events
                if e["data"]["offer"]["id"] in item_ids or e["data"]["need"]["id"] in item_ids]


@pytest.fixture(scope="module")
async def match_log(matching_stack):
    """Reads `matches` from the beginning in the background while a module's tests run (a
    reader idling to the session's end saw the broker drop its fetches)."""
    async with reading_match_log(matching_stack) as log:
        yield log


@asynccontextmanager
async def reading_match_log(matching_stack):
    """Every event on `matches` of the stack, read from the beginning in the background.

    No consumer group: a group member that misses heartbeats (the broker-freeze test) would
    start over from the beginning and read every event twice; (partition, offset) is kept
    so that nothing is recorded twice either way."""
    log = MatchLog()
    consumer = AIOKafkaConsumer(bootstrap_servers=matching_stack.kafka_bootstrap,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    partitions = [TopicPartition(TOPIC_MATCHES, p)
                  for p in sorted(consumer.partitions_for_topic(TOPIC_MATCHES) or [])]
    assert partitions, "the matches topic exists"
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    seen: set[tuple[int, int]] = set()

    async def read():
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    if (record.partition, record.offset) in seen:
                        continue
                    seen.add((record.partition, record.offset))
                    envelope = json.loads(record.value)
                    envelope["_headers"] = {k: v.decode() for k, v in record.headers or ()}
                    log.events.append(envelope)

    task = asyncio.create_task(read())
    try:
        yield log
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # A fetch still in flight when the session ends may time out inside stop(); what was
        # read has been checked by then, so that failure says nothing about the platform.
        try:
            await consumer.stop()
        except (KafkaError, asyncio.CancelledError, asyncio.TimeoutError) as error:
            print(f"match log reader stopped with {error!r}")

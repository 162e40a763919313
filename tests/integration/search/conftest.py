"""Search integration fixtures: the real search service, a producer into the real broker, helpers.

The index is shared by the whole test session, so every test works in its own tenants (unique
ids) and filters its searches by them.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable

import httpx
import pytest
from elasticsearch import AsyncElasticsearch

from platform_common.events import make_event
from platform_common.kafka import EventProducer
from platform_common.settings import CommonSettings
from tests.support.identity import user_headers

WAIT_S = 10.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def member_of(tenant: str) -> dict[str, str]:
    return user_headers("search", unique("user"), tenant, "member")


async def eventually(check: Callable[[], Awaitable[object]], *, timeout_s: float = WAIT_S,
                     what: str = "condition"):
    """Poll until `check` returns something truthy; fail with the last value after timeout."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout_s} s; last value: {last!r}")


@dataclass
class SearchClient:
    http: httpx.AsyncClient

    async def get(self, headers: dict | None = None, **params) -> httpx.Response:
        return await self.http.get("/search", params=params, headers=headers or {})

    async def page(self, headers: dict | None = None, **params) -> dict:
        response = await self.get(headers, **params)
        assert response.status_code == 200, response.text
        return response.json()

    async def ids(self, headers: dict | None = None, **params) -> list[str]:
        return [item["id"] for item in (await self.page(headers, **params))["items"]]


@dataclass
class Publisher:
    producer: EventProducer

    async def event(self, name: str, data, *, key: str | None = None):
        tenant = getattr(data, "tenant", None) or getattr(data, "id")
        envelope = make_event(name, tenant=tenant, subject=data.id, source="search-tests",
                              data=data)
        await self.producer.publish(envelope, key=key)
        return envelope


@pytest.fixture(scope="session")
def search_stack(services):
    return services("search")


@pytest.fixture
async def search(search_stack):
    async with httpx.AsyncClient(base_url=search_stack.url("search"), timeout=15) as http:
        yield SearchClient(http)


@pytest.fixture(scope="session")
async def publisher(search_stack):
    settings = CommonSettings(kafka_bootstrap_servers=search_stack.kafka_bootstrap,
                              service_name="search-tests")
    producer = EventProducer(settings)
    await producer.start()
    try:
        yield Publisher(producer)
    finally:
        await producer.stop()


@pytest.fixture
async def elasticsearch(search_stack):
    client = AsyncElasticsearch(search_stack.elasticsearch_url)
    try:
        yield client
    finally:
        await client.close()

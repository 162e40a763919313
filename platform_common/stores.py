"""Clients of the real engines, built from settings, plus their readiness checks."""
from __future__ import annotations

from elasticsearch import AsyncElasticsearch
from pymongo import AsyncMongoClient
from redis.asyncio import Redis


def mongo_client(uri: str) -> AsyncMongoClient:
    return AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000,
                            connectTimeoutMS=3000)


def redis_client(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=3)


def elasticsearch_client(url: str) -> AsyncElasticsearch:
    return AsyncElasticsearch(url, request_timeout=10, retry_on_timeout=True, max_retries=2)


def mongo_ping(client: AsyncMongoClient):
    async def check():
        await client.admin.command("ping")
    return check


def redis_ping(client: Redis):
    async def check():
        await client.ping()
    return check


def elasticsearch_ping(client: AsyncElasticsearch):
    async def check():
        if not await client.ping():
            raise ConnectionError("search engine did not answer")
    return check


def kafka_ping(bootstrap_servers: str):
    """Ready when the broker answers a metadata request."""
    async def check():
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2000)
        await admin.start()
        try:
            await admin.list_topics()
        finally:
            await admin.close()
    return check

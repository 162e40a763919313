"""Clients of the real engines, built from settings, plus their readiness checks."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal, TypeVar

from elasticsearch import AsyncElasticsearch
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.errors import BulkWriteError
from redis.asyncio import Redis


T = TypeVar("T")
# How many values one `$in` lists. The local store (SecantusDB) compares every candidate with
# every listed value: one update of 500 ids by `$in` took 0.53 s, ten of 50 ids 0.12 s, and a
# find 0.22 s against 0.04 s (30k documents). A real MongoDB is indifferent to the split.
IN_CHUNK = 50


def in_chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """`values` in lists of at most `size`, for `$in` queries."""
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


DUPLICATE_KEY = 11000
WRITE_CHUNK = 1000


async def save_newer(collection, rows: Sequence[tuple[str, Any, dict[str, Any]]], *,
                     order_field: str, keep: Literal["newest", "earliest"] = "newest") -> None:
    """Store each (`_id`, order, fields) row unless the stored document's `order_field` is
    as new or newer: a read model fed by events that may come again or out of order.
    `keep="earliest"` turns it round: a row is stored unless the stored one is as old or
    older (e.g. when something first happened).

    The winning row per id is inserted; where the id is taken, the document is updated on a
    filter asking for an older (newer) order. Inserts cost the local store far less than
    upserts, and most events of a growing platform are about entities new to the read model."""
    earliest = keep == "earliest"
    newest: dict[str, tuple[str, Any, dict[str, Any]]] = {}
    for row in rows:  # one operation per document: an unordered bulk may reorder them
        if row[0] not in newest or (row[1] < newest[row[0]][1] if earliest
                                    else row[1] > newest[row[0]][1]):
            newest[row[0]] = row
    taken: list[tuple[str, Any, dict[str, Any]]] = []
    chunks = list(newest.values())
    for start in range(0, len(chunks), WRITE_CHUNK):
        chunk = chunks[start:start + WRITE_CHUNK]
        try:
            await collection.insert_many([{**fields, "_id": key, order_field: order}
                                          for key, order, fields in chunk], ordered=False)
        except BulkWriteError as exc:
            errors = exc.details["writeErrors"]
            if any(error["code"] != DUPLICATE_KEY for error in errors):
                raise
            taken += [chunk[error["index"]] for error in errors]
    beaten = "$gt" if earliest else "$lt"
    updates = [UpdateOne({"_id": key, order_field: {beaten: order}},
                         {"$set": {**fields, order_field: order}}) for key, order, fields in taken]
    for start in range(0, len(updates), WRITE_CHUNK):
        await collection.bulk_write(updates[start:start + WRITE_CHUNK], ordered=False)


def mongo_client(uri: str) -> AsyncMongoClient:
    return AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000,
                            connectTimeoutMS=3000)


def redis_tls_options(url: str, *, password=None, ca_file: str | None = None) -> dict:
    """Password (str or SecretStr) and, for rediss:// URLs, the CA that signs the server."""
    options: dict = {}
    if password is not None:
        options["password"] = (password.get_secret_value()
                               if hasattr(password, "get_secret_value") else password)
    if ca_file:
        if not url.startswith("rediss://"):
            raise ValueError("REDIS_CA_FILE is set but REDIS_URL is not rediss:// (TLS)")
        options["ssl_ca_certs"] = ca_file
        options["ssl_cert_reqs"] = "required"
    return options


def redis_client(url: str, *, password=None, ca_file: str | None = None) -> Redis:
    return Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=3,
                          **redis_tls_options(url, password=password, ca_file=ca_file))


def elasticsearch_client(url: str, *, ca_file: str | None = None) -> AsyncElasticsearch:
    # ca_file: the CA of the cluster's HTTP certificate (ECK signs it with its own CA).
    tls = {"ca_certs": ca_file, "verify_certs": True} if ca_file else {}
    return AsyncElasticsearch(url, request_timeout=10, retry_on_timeout=True, max_retries=2, **tls)


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


def kafka_ping(settings):
    """Ready when the broker answers a metadata request. `settings`: the service's settings
    (with the Kafka security options), or just the bootstrap servers (PLAINTEXT)."""
    async def check():
        from aiokafka.admin import AIOKafkaAdminClient

        from platform_common.kafka.security import kafka_client_options

        if isinstance(settings, str):
            servers, options = settings, {}
        else:
            servers, options = settings.kafka_bootstrap_servers, kafka_client_options(settings)
        admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=2000, **options)
        await admin.start()
        try:
            await admin.list_topics()
        finally:
            await admin.close()
    return check

"""Reading topics in tests, over the wire with the ordinary client."""
from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer


async def read_topic(bootstrap: str, topic: str, *, min_count: int = 1, timeout_s: float = 15,
                     idle_s: float = 1.0) -> list:
    """All records of `topic` from the beginning: waits for `min_count`, then until idle."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=f"test-reader-{uuid.uuid4().hex}",
                                session_timeout_ms=6000)
    await consumer.start()
    records: list = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        idle_since = loop.time()
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            fresh = [record for part in batch.values() for record in part]
            if fresh:
                records.extend(fresh)
                idle_since = loop.time()
            elif len(records) >= min_count and loop.time() - idle_since >= idle_s:
                break
    finally:
        await consumer.stop()
    return records

"""Every partition of the `items` and `tenants` topics, from the beginning, to every instance.

A plain consumer without a group (manual assignment): each worker instance holds the whole
index, so each reads everything. No offsets are committed; a start replays the topics
(bounded in production by compacting `items`, see README.md), or, restored from a snapshot,
`seek`s to the offsets the snapshot covers and reads only the tail.

"Caught up" is judged by the high watermark the broker reports in fetch responses. The
local broker's ListOffsets (end_offsets) is wrong for multi-record batches (STACK.md); the
fetch high watermark is right.
"""
from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition

from platform_common.kafka.security import kafka_client_options
from platform_common.settings import CommonSettings
from services.matching.ports import FeedRecord

# A fetch answered this long after a catch-up request surely started after it (the
# consumer's fetch_max_wait_ms is 500 ms).
FETCH_SETTLE_MS = 1000


class KafkaFeed:
    """The EventFeed port (services/matching/ports.py) over a group-less Kafka consumer."""

    def __init__(self, settings: CommonSettings, *, topics: list[str], client_id: str):
        self._topics = topics
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{client_id}-feed-{uuid.uuid4().hex[:8]}",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=500,
            **kafka_client_options(settings),
        )
        self._positions: dict[TopicPartition, int] = {}
        self._catch_up_from_ms: float | None = None
        self._targets: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        await self._consumer.start()
        partitions: list[TopicPartition] = []
        for topic in self._topics:
            for _attempt in range(50):
                found = self._consumer.partitions_for_topic(topic)
                if found:
                    break
                await self._consumer.topics()  # refreshes metadata: the topic may be brand new
                await asyncio.sleep(0.2)
            else:
                raise RuntimeError(f"topic {topic!r} does not exist")
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        for tp in partitions:
            self._positions[tp] = await self._consumer.position(tp)

    async def stop(self) -> None:
        await self._consumer.stop()

    def partition_count(self, topic: str) -> int:
        return sum(1 for tp in self._positions if tp.topic == topic)

    async def beginning_offsets(self) -> dict[tuple[str, int], int]:
        found = await self._consumer.beginning_offsets(list(self._positions))
        return {(tp.topic, tp.partition): offset for tp, offset in found.items()}

    async def seek(self, offsets: dict[tuple[str, int], int]) -> None:
        for tp in self._positions:
            offset = offsets.get((tp.topic, tp.partition))
            if offset is not None:
                self._consumer.seek(tp, offset)
                self._positions[tp] = offset

    async def next_batch(self, *, max_records: int, timeout_ms: int = 200) -> list[FeedRecord]:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        records: list[FeedRecord] = []
        for tp, part in batches.items():
            for record in part:
                records.append(FeedRecord(record.topic, record.partition, record.offset,
                                          record.key, record.value, tuple(record.headers or ())))
            if part:
                self._positions[tp] = part[-1].offset + 1
        self._note_targets()
        return records

    # ---- catching up ------------------------------------------------------------------------
    def request_catch_up(self) -> None:
        """From now on, `caught_up` means: everything that existed at this moment was read."""
        self._catch_up_from_ms = time.time() * 1000 + FETCH_SETTLE_MS
        self._targets = {}
        self._note_targets()

    def _note_targets(self) -> None:
        if self._catch_up_from_ms is None:
            return
        for tp in self._positions:
            if tp in self._targets:
                continue
            polled = self._consumer.last_poll_timestamp(tp)
            highwater = self._consumer.highwater(tp)
            if polled is not None and highwater is not None and polled >= self._catch_up_from_ms:
                self._targets[tp] = highwater

    @property
    def caught_up(self) -> bool:
        if self._catch_up_from_ms is None:
            return True
        if len(self._targets) < len(self._positions):
            return False
        return all(self._positions[tp] >= target for tp, target in self._targets.items())

    def lag(self) -> int:
        """Records known to exist but not read yet (from the latest fetch responses)."""
        return sum(self.lag_by_partition().values())

    def lag_by_partition(self) -> dict[TopicPartition, int]:
        """Per partition: records known to exist but not read yet (partitions whose high
        watermark no fetch has reported yet are left out)."""
        lags = {}
        for tp, position in self._positions.items():
            highwater = self._consumer.highwater(tp)
            if highwater is not None:
                lags[tp] = max(0, highwater - position)
        return lags

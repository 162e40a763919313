"""Which partitions of `items` this worker instance emits for: a faust consumer group decides.

The faust agent reads `items` in the group `matching_group_id` only to hold the group's
assignment; the matcher itself is fed by `KafkaFeed` (every instance reads everything). Faust
tables, end offsets and exactly-once are not used (the local broker gets them wrong,
STACK.md); correctness comes from the persisted match set (README.md).
"""
from __future__ import annotations

import logging

import faust
from faust.contrib.asgi import bind_to_running_loop

from platform_common.kafka.security import faust_broker_credentials
from services.matching.ports import OnAssigned, OnRevoked
from services.matching.settings import WorkerSettings


async def _nobody_listens(*_args) -> None:
    return None


class GroupOwnership:
    """The GroupMembership port (services/matching/ports.py) as a faust app."""

    def __init__(self, settings: WorkerSettings, *, topic: str):
        self._settings, self._topic_name = settings, topic
        # Given at start: the member that listens (the worker) is built after the group.
        self._on_assigned: OnAssigned = _nobody_listens
        self._on_revoked: OnRevoked = _nobody_listens
        self.assigned: set[int] = set()
        self.events_seen = 0
        self.app: faust.App | None = None
        self._started = False

    def _build(self, partitions: int) -> faust.App:
        settings = self._settings
        brokers = [f"kafka://{server.strip()}"
                   for server in settings.kafka_bootstrap_servers.split(",") if server.strip()]
        app = faust.App(
            settings.matching_group_id,
            broker=brokers,
            broker_credentials=faust_broker_credentials(settings),
            broker_session_timeout=settings.kafka_session_timeout_ms / 1000,
            broker_heartbeat_interval=max(0.5, settings.kafka_session_timeout_ms / 3000),
            producer_max_batch_size=1,
            processing_guarantee="at_least_once",
            topic_partitions=partitions,
            topic_replication_factor=settings.kafka_replication_factor,
            consumer_auto_offset_reset="earliest",
            web_enabled=False,
            store="memory://",
            autodiscover=False,
        )
        items = app.topic(self._topic_name, key_type=bytes, value_type=bytes,
                          key_serializer="raw", value_serializer="raw", partitions=partitions)

        @app.agent(items, name="matching-owner")
        async def follow(stream):
            # Holding the assignment is the point; the events reach the matcher through the feed.
            async for _event in stream:
                self.events_seen += 1

        app.on_partitions_assigned.connect(self._assigned)
        app.on_partitions_revoked.connect(self._revoked)
        return app

    async def _assigned(self, sender, assigned, **_kwargs) -> None:
        self.assigned = {tp.partition for tp in assigned if tp.topic == self._topic_name}
        await self._on_assigned(set(self.assigned))

    async def _revoked(self, sender, revoked, **_kwargs) -> None:
        self.assigned = set()
        await self._on_revoked()

    async def start(self, partitions: int, *, on_assigned: OnAssigned,
                    on_revoked: OnRevoked) -> None:
        """Join the group; `partitions` is the partition count of the topic, the callbacks
        hear every rebalance from now on."""
        self._on_assigned, self._on_revoked = on_assigned, on_revoked
        for chatty in ("faust", "mode"):
            # Every service start/stop of faust's internals is logged at INFO: too much.
            logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
        self.app = self._build(partitions)
        bind_to_running_loop(self.app)
        self.app.finalize()
        self._started = bool(await self.app.maybe_start())

    async def stop(self) -> None:
        if self._started and self.app is not None:
            await self.app.stop()
            self._started = False

    @property
    def running(self) -> bool:
        return self._started and self.app is not None and not self.app.should_stop

    @property
    def crashed(self) -> bool:
        return bool(getattr(self.app, "crashed", False))

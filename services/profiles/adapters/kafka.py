"""Kafka adapter: publishes outbox events through the shared EventProducer (acks=all)."""
from __future__ import annotations

from platform_common.events import Envelope
from platform_common.kafka import EventProducer
from platform_common.settings import CommonSettings


class KafkaEventPublisher:
    def __init__(self, settings: CommonSettings):
        self._settings = settings
        self._producer: EventProducer | None = None

    async def start(self) -> None:
        # The Kafka client binds to the running event loop, so it is built here.
        self._producer = EventProducer(self._settings)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def publish_many(self, batch: list[tuple[Envelope, str, str]]) -> list[BaseException | None]:
        if self._producer is None:
            raise RuntimeError("the publisher was not started")
        # Each event is published in the trace of the request that wrote it (its traceparent).
        return await self._producer.publish_many(batch)

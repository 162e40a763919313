"""The one way services consume events.

Rules (DESIGN.md, "Events"): offsets are committed only after the handler succeeded; a failing
handler is retried with exponential backoff; a message that keeps failing (or cannot be parsed)
goes to `<topic>.dlq` with the error and its original headers, and the consumer goes on; a
redelivered event can be skipped through a `ProcessedEvents` store. Handlers must still be
idempotent, because a crash between handling and committing redelivers the message.

A service whose store round trips dominate may also give a `batch_handler`: it gets the events
of one fetched partition batch at once (in offset order). If it raises, the batch is handled
again one event at a time through `handler`, with the retries and the dead-letter rule above,
so one poison event still costs only itself.

A read model that may lag a little (a directory, statistics) can give `linger_s`: after the
first records arrive the consumer keeps fetching for that long (or until `max_batch`), so a
trickle of events costs one store round trip and one offset commit per linger instead of one
per record.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from opentelemetry import trace
from pydantic import BaseModel
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from platform_common.events import Envelope, read_event, utcnow
from platform_common.kafka.dead_letter import dead_letter
from platform_common.kafka.idempotency import ProcessedEvents
from platform_common.kafka.producer import EventProducer
from platform_common.kafka.security import kafka_client_options
from platform_common.observability.logging import get_logger
from platform_common.observability.metrics import (
    CONSUMER_LAG, EVENT_AGE_SECONDS, EVENTS_DUPLICATE, EVENTS_FAILED, EVENTS_PROCESSED,
)
from platform_common.observability.tracing import context_from_kafka_headers, tracer
from platform_common.settings import CommonSettings

log = get_logger(__name__)


@dataclass(frozen=True)
class ConsumedEvent:
    envelope: Envelope  # upcast to the current version of its type
    data: BaseModel     # the typed payload
    topic: str
    partition: int
    offset: int
    key: str | None


Handler = Callable[[ConsumedEvent], Awaitable[None]]
BatchHandler = Callable[[list[ConsumedEvent]], Awaitable[None]]


def report_lag(service: str, lags: dict[TopicPartition, int],
               reported: set[TopicPartition]) -> None:
    """Set `consumer_lag_messages` for the partitions held now and remove the series of those
    no longer held (revoked in a rebalance, or the consumer stopped). `reported` is updated."""
    for partition in reported - set(lags):
        try:
            CONSUMER_LAG.remove(service, partition.topic, str(partition.partition))
        except KeyError:
            pass
    for partition, lag in lags.items():
        CONSUMER_LAG.labels(service, partition.topic, str(partition.partition)).set(lag)
    reported.clear()
    reported.update(lags)


class PoisonMessage(Exception):
    """A message no retry can fix (not an event, unknown type, newer version)."""


class EventConsumer:
    def __init__(self, settings: CommonSettings, *, group_id: str, topics: list[str],
                 handler: Handler, producer: EventProducer,
                 processed: ProcessedEvents | None = None, max_batch: int = 200,
                 auto_offset_reset: str = "earliest", batch_handler: BatchHandler | None = None,
                 linger_s: float = 0.0):
        self._settings, self._topics, self._handler = settings, topics, handler
        self._linger_s = linger_s
        self._batch_handler = batch_handler
        self._producer, self._processed, self._max_batch = producer, processed, max_batch
        self.group_id = group_id
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=group_id,
            client_id=f"{settings.kafka_client_prefix}-{settings.service_name}",
            enable_auto_commit=False,
            auto_offset_reset=auto_offset_reset,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=max(500, settings.kafka_session_timeout_ms // 3),
            max_poll_records=max_batch,
            **kafka_client_options(settings),
        )
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self.healthy = True
        # The partitions this instance reports lag for: a revoked one's series is removed, or
        # it would show its last lag forever (and alert) after moving to another instance.
        self._lag_partitions: set[TopicPartition] = set()

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name=f"consumer:{self.group_id}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        await self._consumer.stop()
        report_lag(self._settings.service_name, {}, self._lag_partitions)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                batches = await self._fetch()
            except KafkaError as exc:
                log.warning("consumer_fetch_failed", group=self.group_id, error=repr(exc))
                await asyncio.sleep(1)
                continue
            if self._batch_handler is not None:
                # The partitions of one topic are independent (the events of one key share a
                # partition), so their batches are handled side by side, their store round
                # trips overlapping. Topics take turns: events of different topics may
                # concern the same entity (an actor, and a match that names it), and a
                # handler may rely on seeing one of them complete before the other starts.
                for topic in sorted({partition.topic for partition in batches}):
                    await asyncio.gather(*(self._process_batch(records)
                                           for partition, records in batches.items()
                                           if partition.topic == topic))
            else:
                for records in batches.values():
                    for record in records:
                        await self._process(record)
            if batches:
                await self._commit({partition: records[-1].offset + 1
                                    for partition, records in batches.items()})
            await self._report_lag()

    async def _fetch(self) -> dict[TopicPartition, list[ConsumerRecord]]:
        """The next records by partition; with a linger, what arrives within it joins them."""
        batches = await self._consumer.getmany(timeout_ms=500, max_records=self._max_batch)
        if not batches or self._linger_s <= 0:
            return batches
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._linger_s
        fetched = sum(len(records) for records in batches.values())
        while fetched < self._max_batch and (left := deadline - loop.time()) > 0:
            more = await self._consumer.getmany(timeout_ms=int(left * 1000) or 1,
                                                max_records=self._max_batch - fetched)
            for partition, records in more.items():
                batches.setdefault(partition, []).extend(records)
                fetched += len(records)
        return batches

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # A partition moved to another member during a rebalance: it will redeliver the
            # uncommitted messages, and the handlers are idempotent.
            log.warning("commit_failed", group=self.group_id,
                        partitions=sorted(str(partition) for partition in offsets),
                        error=repr(exc))

    async def _report_lag(self) -> None:
        # Approximate on the local broker, whose end offsets are wrong for multi-record batches.
        lags: dict[TopicPartition, int] = {}
        for partition in self._consumer.assignment():
            highwater = self._consumer.highwater(partition)
            if highwater is None:
                continue
            position = await self._consumer.position(partition)
            lags[partition] = max(0, highwater - position)
        report_lag(self._settings.service_name, lags, self._lag_partitions)

    async def _process(self, record: ConsumerRecord) -> None:
        try:
            event = self._parse(record)
        except PoisonMessage as exc:
            await self._dead_letter(record, exc, attempts=0)
            return
        if self._processed is not None and await self._processed.seen(str(event.envelope.id)):
            EVENTS_DUPLICATE.labels(self._settings.service_name, record.topic).inc()
            return
        await self._handle_one(record, event)

    async def _process_batch(self, records: list[ConsumerRecord]) -> None:
        """Parse, drop duplicates, hand the rest to the batch handler in one call."""
        service = self._settings.service_name
        parsed: list[tuple[ConsumerRecord, ConsumedEvent]] = []
        for record in records:
            try:
                parsed.append((record, self._parse(record)))
            except PoisonMessage as exc:
                await self._dead_letter(record, exc, attempts=0)
        ids = [str(event.envelope.id) for _, event in parsed]
        seen = await self._processed.seen_among(ids) if self._processed is not None else set()
        fresh: list[tuple[ConsumerRecord, ConsumedEvent]] = []
        for record, event in parsed:
            event_id = str(event.envelope.id)
            if event_id in seen:
                EVENTS_DUPLICATE.labels(service, record.topic).inc()
                continue
            seen.add(event_id)  # the same event twice in one batch counts once
            fresh.append((record, event))
        if not fresh:
            return
        # One consumer span per event, in its producer's trace, open while the batch is handled.
        spans = []
        for record, event in fresh:
            span = tracer().start_span(
                f"consume {event.envelope.type}", kind=trace.SpanKind.CONSUMER,
                context=context_from_kafka_headers(record.headers, event.envelope.traceparent))
            span.set_attribute("messaging.destination.name", record.topic)
            span.set_attribute("messaging.message.id", str(event.envelope.id))
            span.set_attribute("messaging.batch.message_count", len(fresh))
            spans.append(span)
        try:
            with tracer().start_as_current_span(
                    f"consume batch {records[0].topic}",
                    links=[trace.Link(span.get_span_context()) for span in spans]):
                await self._batch_handler([event for _, event in fresh])
        except Exception as exc:
            for span in spans:
                span.end()
            EVENTS_FAILED.labels(service, fresh[0][0].topic).inc()
            log.warning("batch_handler_failed", events=len(fresh), error=repr(exc))
            # One at a time now: retries per event, and only a poison event goes to the DLQ.
            for record, event in fresh:
                await self._handle_one(record, event)
            return
        for span in spans:
            span.end()
        if self._processed is not None:
            await self._processed.mark_many([str(event.envelope.id) for _, event in fresh])
        for record, event in fresh:
            self._count_processed(record, event)

    def _count_processed(self, record: ConsumerRecord, event: ConsumedEvent) -> None:
        service = self._settings.service_name
        EVENTS_PROCESSED.labels(service, record.topic, event.envelope.type).inc()
        EVENT_AGE_SECONDS.labels(service, record.topic).observe(
            max(0.0, (utcnow() - event.envelope.occurred_at).total_seconds()))

    async def _handle_one(self, record: ConsumerRecord, event: ConsumedEvent) -> None:
        service = self._settings.service_name
        parent = context_from_kafka_headers(record.headers, event.envelope.traceparent)
        with tracer().start_as_current_span(f"consume {event.envelope.type}", context=parent,
                                            kind=trace.SpanKind.CONSUMER) as span:
            span.set_attribute("messaging.destination.name", record.topic)
            span.set_attribute("messaging.message.id", str(event.envelope.id))
            attempts = 0
            try:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self._settings.consumer_max_attempts),
                    wait=wait_exponential(multiplier=self._settings.consumer_backoff_initial_s,
                                          max=self._settings.consumer_backoff_max_s),
                    reraise=True,
                ):
                    with attempt:
                        attempts += 1
                        try:
                            await self._handler(event)
                        except Exception as exc:
                            EVENTS_FAILED.labels(service, record.topic).inc()
                            log.warning("handler_failed", event_id=str(event.envelope.id),
                                        event_type=event.envelope.type, attempt=attempts,
                                        error=repr(exc))
                            raise
            except Exception as exc:
                span.record_exception(exc)
                await self._dead_letter(record, exc, attempts=attempts)
                return
        if self._processed is not None:
            await self._processed.mark(str(event.envelope.id))
        self._count_processed(record, event)

    def _parse(self, record: ConsumerRecord) -> ConsumedEvent:
        try:
            envelope, data = read_event(Envelope.from_bytes(record.value or b""))
        except Exception as exc:
            raise PoisonMessage(f"{exc.__class__.__name__}: {exc}") from exc
        key = record.key.decode(errors="replace") if record.key else None
        return ConsumedEvent(envelope, data, record.topic, record.partition, record.offset, key)

    async def _dead_letter(self, record: ConsumerRecord, error: BaseException, *, attempts: int) -> None:
        await dead_letter(self._producer, record, error, service=self._settings.service_name,
                          consumer_group=self.group_id, attempts=attempts)

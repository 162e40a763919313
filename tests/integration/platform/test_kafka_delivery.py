"""The delivery rules of DESIGN.md on the real local broker (and Redis for deduplication)."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from platform_common.events import make_event
from platform_common.kafka import (
    ConsumedEvent, EventConsumer, EventProducer, RedisProcessedEvents, ensure_topics,
)
from platform_common.observability import configure_tracing, tracer
from platform_common.settings import CommonSettings
from platform_common.stores import redis_client
from tests.support.kafka import read_topic
from tests.support.waiting import eventually, eventually_sync

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[3]
SPANS = InMemorySpanExporter()


@pytest.fixture(scope="module")
def settings(engines) -> CommonSettings:
    configure_tracing("delivery-test", extra_exporter=SPANS)
    return CommonSettings(kafka_bootstrap_servers=engines.kafka_bootstrap, service_name="delivery-test",
                          consumer_max_attempts=3, consumer_backoff_initial_s=0.05,
                          consumer_backoff_max_s=0.2)


@pytest.fixture
async def producer(settings):
    producer = EventProducer(settings)
    await producer.start()
    yield producer
    await producer.stop()


async def fresh_topic(settings: CommonSettings, partitions: int = 3) -> str:
    topic = f"test-{uuid.uuid4().hex[:10]}"
    await ensure_topics(settings, {topic: partitions})
    return topic


def tenant_event(name: str = "Köln", tenant: str = "koeln"):
    return make_event("tenant.created", tenant=tenant, subject=tenant, source="test", data={
        "id": tenant, "name": name, "center": {"lat": 50.94, "lon": 6.96}, "version": 1})


async def test_event_arrives_with_envelope_and_trace_context(settings, producer):
    topic = await fresh_topic(settings)
    received: list[tuple[ConsumedEvent, trace.SpanContext]] = []

    async def handle(event: ConsumedEvent):
        received.append((event, trace.get_current_span().get_span_context()))

    sent = tenant_event()
    with tracer().start_as_current_span("request") as request_span:
        await producer.publish(sent, topic=topic)
    consumer = EventConsumer(settings, group_id=f"g-{uuid.uuid4().hex}", topics=[topic],
                             handler=handle, producer=producer)
    await consumer.start()
    try:
        await eventually(lambda: asyncio.sleep(0, bool(received)), message="delivery")
    finally:
        await consumer.stop()

    event, consumer_span = received[0]
    assert event.envelope == sent.model_copy(update={"traceparent": event.envelope.traceparent})
    assert event.data.name == "Köln" and event.key == "koeln"
    trace_id = request_span.get_span_context().trace_id
    assert consumer_span.trace_id == trace_id, "the consumer's span continues the producer's trace"
    assert event.envelope.traceparent.split("-")[1] == format(trace_id, "032x")
    spans = {span.name: span for span in SPANS.get_finished_spans()
             if span.context.trace_id == trace_id}
    consume_span, publish_span = spans["consume tenant.created"], spans["publish tenant.created"]
    assert consume_span.parent.span_id == publish_span.context.span_id


def start_consumer_process(engines, topic: str, group: str, record: Path, hang: bool):
    command = [sys.executable, "-m", "tests.support.consumer_process", "--topic", topic,
               "--group", group, "--record", str(record)]
    if hang:
        command.append("--hang-after-handling")
    return subprocess.Popen(command, cwd=REPO_ROOT, start_new_session=True,
                            env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": engines.kafka_bootstrap})


async def test_consumer_killed_before_commit_gets_the_message_again(engines, settings, producer, tmp_path):
    topic, group, record = await fresh_topic(settings, 1), f"g-{uuid.uuid4().hex}", tmp_path / "seen"
    event = tenant_event()
    await producer.publish(event, topic=topic)

    crashing = start_consumer_process(engines, topic, group, record, hang=True)
    try:
        eventually_sync(lambda: record.exists() and record.read_text().strip(), timeout_s=30,
                        message="first delivery")
    finally:
        os.killpg(crashing.pid, signal.SIGKILL)
        crashing.wait()
    assert record.read_text().split() == [str(event.id)]

    restarted = start_consumer_process(engines, topic, group, record, hang=False)
    try:
        eventually_sync(lambda: len(record.read_text().split()) >= 2, timeout_s=30,
                        message="redelivery after the crash")
        # A further event proves the consumer goes on; the first one is not seen a third time.
        second = tenant_event("Düsseldorf", "duesseldorf")
        await producer.publish(second, topic=topic)
        eventually_sync(lambda: str(second.id) in record.read_text(), timeout_s=30,
                        message="next event")
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=20)
    assert record.read_text().split() == [str(event.id), str(event.id), str(second.id)]


async def test_poison_message_goes_to_dlq_and_the_consumer_goes_on(settings, producer):
    topic = await fresh_topic(settings, 1)
    handled: list[str] = []
    failing = tenant_event("Immer kaputt", "kaputt")

    async def handle(event: ConsumedEvent):
        if event.envelope.id == failing.id:
            raise RuntimeError("cannot handle this tenant")
        handled.append(event.data.id)

    await producer.send_raw(topic, b"{not json", key="garbage",
                            headers=[("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01")])
    await producer.publish(failing, topic=topic)
    after = [tenant_event(f"Stadt {i}", f"stadt-{i}") for i in range(3)]
    for event in after:
        await producer.publish(event, topic=topic)

    consumer = EventConsumer(settings, group_id=f"g-{uuid.uuid4().hex}", topics=[topic],
                             handler=handle, producer=producer)
    await consumer.start()
    try:
        await eventually(lambda: asyncio.sleep(0, len(handled) == 3), message="later events")
    finally:
        await consumer.stop()
    assert handled == ["stadt-0", "stadt-1", "stadt-2"]

    dead = await read_topic(settings.kafka_bootstrap_servers, f"{topic}.dlq", min_count=2)
    assert len(dead) == 2
    garbage, poisoned = sorted(dead, key=lambda r: int(dict(r.headers)["dlq.offset"]))
    garbage_headers, poisoned_headers = dict(garbage.headers), dict(poisoned.headers)
    assert garbage.value == b"{not json"
    assert garbage_headers["dlq.error_type"] == b"PoisonMessage"
    assert garbage_headers["traceparent"].startswith(b"00-111"), "original headers are kept"
    assert b"cannot handle this tenant" in poisoned_headers["dlq.error"]
    assert poisoned_headers["dlq.attempts"] == str(settings.consumer_max_attempts).encode()
    assert poisoned_headers["event_id"] == str(failing.id).encode()
    assert poisoned_headers["dlq.topic"] == topic.encode()


async def test_a_duplicate_delivery_changes_state_once(engines, settings, producer):
    topic = await fresh_topic(settings, 1)
    redis = redis_client(engines.redis_url)
    counter = f"test-counter-{uuid.uuid4().hex}"

    async def handle(event: ConsumedEvent):
        await redis.incr(counter)

    event = tenant_event()
    await producer.publish(event, topic=topic)
    await producer.publish(event, topic=topic)  # the same event id again: a redelivery
    other = tenant_event("Aachen", "aachen")
    await producer.publish(other, topic=topic)

    consumer = EventConsumer(settings, group_id=f"g-{uuid.uuid4().hex}", topics=[topic],
                             handler=handle, producer=producer,
                             processed=RedisProcessedEvents(redis, namespace=f"t-{topic}"))
    await consumer.start()
    try:
        await eventually(lambda: redis.get(counter), message="handling")
        await eventually(lambda: _equals(redis.get(counter), "2"), message="both distinct events")
        await asyncio.sleep(1)
    finally:
        await consumer.stop()
    assert await redis.get(counter) == "2", "three deliveries of two distinct events change state twice"
    await redis.aclose()


async def _equals(value_coro, expected):
    return (await value_coro) == expected


async def test_topic_creation_is_idempotent(settings):
    from aiokafka.admin import AIOKafkaAdminClient

    topic = f"test-{uuid.uuid4().hex[:10]}"
    await ensure_topics(settings, {topic: 4})
    await ensure_topics(settings, {topic: 4})
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics([topic, f"{topic}.dlq"])
    finally:
        await admin.close()
    partitions = {item["topic"]: len(item["partitions"]) for item in described}
    assert partitions == {topic: 4, f"{topic}.dlq": 1}


async def test_an_outbox_event_is_published_in_the_trace_of_the_request_that_wrote_it(settings, producer):
    """The relay publishes later, outside the request; the consumer still joins the request's trace."""
    topic = await fresh_topic(settings, 1)
    with tracer().start_as_current_span("request that wrote the outbox record"):
        from platform_common.observability.tracing import current_traceparent

        stored = tenant_event().model_copy(update={"traceparent": current_traceparent()})
    request_trace_id = stored.traceparent.split("-")[1]
    with tracer().start_as_current_span("relay loop"):  # another trace, as in the relay process
        await producer.publish(stored, topic=topic)

    received: list[str] = []

    async def handle(event: ConsumedEvent):
        received.append(format(trace.get_current_span().get_span_context().trace_id, "032x"))

    consumer = EventConsumer(settings, group_id=f"g-{uuid.uuid4().hex}", topics=[topic],
                             handler=handle, producer=producer)
    await consumer.start()
    try:
        await eventually(lambda: asyncio.sleep(0, bool(received)), message="delivery")
    finally:
        await consumer.stop()
    assert received == [request_trace_id]


async def test_a_batch_handler_gets_batches_and_a_failing_batch_falls_back_to_single_events(
        engines, settings, producer):
    """One poison event in a batch: the others are still handled (once), the poison is dead-lettered."""
    topic = await fresh_topic(settings, 1)
    redis = redis_client(engines.redis_url)
    failing = tenant_event("Immer kaputt", "kaputt")
    good = [tenant_event(f"Stadt {i}", f"stadt-{i}") for i in range(5)]
    for event in [good[0], good[1], failing, good[2], good[1], good[3], good[4]]:
        await producer.publish(event, topic=topic)   # good[1] twice: a redelivery
    batches: list[list[str]] = []
    handled: list[str] = []

    async def handle_batch(events: list[ConsumedEvent]):
        batches.append([event.data.id for event in events])
        if any(event.envelope.id == failing.id for event in events):
            raise RuntimeError("this batch holds an event nobody can handle")
        handled.extend(event.data.id for event in events)

    async def handle(event: ConsumedEvent):
        if event.envelope.id == failing.id:
            raise RuntimeError("cannot handle this tenant")
        handled.append(event.data.id)

    consumer = EventConsumer(settings, group_id=f"g-{uuid.uuid4().hex}", topics=[topic],
                             handler=handle, batch_handler=handle_batch, producer=producer,
                             processed=RedisProcessedEvents(redis, namespace=f"t-{topic}"))
    await consumer.start()
    try:
        await eventually(lambda: asyncio.sleep(0, len(handled) >= 5), message="the good events")
        dead = await read_topic(settings.kafka_bootstrap_servers, f"{topic}.dlq", min_count=1)
        # A later batch of an event seen before is skipped as a duplicate.
        await producer.publish(good[0], topic=topic)
        extra = tenant_event("Bonn", "bonn")
        await producer.publish(extra, topic=topic)
        await eventually(lambda: asyncio.sleep(0, "bonn" in handled), message="a later batch")
    finally:
        await consumer.stop()
        await redis.aclose()
    assert sorted(handled) == ["bonn"] + [f"stadt-{i}" for i in range(5)], \
        "every good event handled once, the redelivered one too"
    assert any(len(batch) > 1 for batch in batches), "events arrive in batches"
    assert [dict(record.headers)["event_id"] for record in dead] == [str(failing.id).encode()]


async def test_publish_many_keeps_the_order_per_key_and_reports_each_ack(settings, producer):
    topic = await fresh_topic(settings, 3)
    events = [tenant_event(f"Stadt {i}", f"stadt-{i % 4}") for i in range(40)]
    errors = await producer.publish_many([(event, topic, event.subject) for event in events])
    assert errors == [None] * 40
    records = await read_topic(settings.kafka_bootstrap_servers, topic, min_count=40)
    received = [(record.key.decode(), dict(record.headers)["event_id"].decode())
                for record in records]
    assert len(received) == 40
    for key in {event.subject for event in events}:
        sent_in_order = [str(event.id) for event in events if event.subject == key]
        assert [event_id for k, event_id in received if k == key] == sent_in_order, key


async def test_a_lingering_consumer_takes_a_trickle_of_events_in_few_batches(settings, producer):
    """A read model with `linger_s` writes once per linger, not once per event (and loses none)."""
    topic = await fresh_topic(settings, 1)
    batches: list[list[str]] = []

    async def handle_batch(events: list[ConsumedEvent]):
        batches.append([event.data.id for event in events])

    async def handle(event: ConsumedEvent):
        batches.append([event.data.id])

    consumer = EventConsumer(settings, group_id=f"g-{uuid.uuid4().hex}", topics=[topic],
                             handler=handle, batch_handler=handle_batch, producer=producer,
                             linger_s=2.0)
    await consumer.start()
    sent = [f"stadt-{i}" for i in range(8)]
    try:
        await producer.publish(tenant_event("Warm-up", "warm-up"), topic=topic)
        await eventually(lambda: asyncio.sleep(0, bool(batches)), message="the first event")
        batches.clear()
        for tenant in sent:  # one every 50 ms: without a linger, one batch each
            await producer.publish(tenant_event(tenant, tenant), topic=topic)
            await asyncio.sleep(0.05)
        await eventually(lambda: asyncio.sleep(0, sum(map(len, batches)) >= len(sent)),
                         message="every event of the trickle")
    finally:
        await consumer.stop()
    assert [tenant for batch in batches for tenant in batch] == sent
    assert len(batches) <= 3, f"a trickle of 8 events came in {len(batches)} batches"

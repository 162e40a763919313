"""Moving a message that cannot be handled to `<topic>.dlq` (DESIGN.md, "Events").

The message goes unchanged, with its original headers plus what went wrong and where it came
from; sending is retried until the broker takes it, because the consumer moves on after it
and dropping the message would lose it."""
from __future__ import annotations

import traceback
from typing import Protocol, Sequence

from platform_common.events import utcnow
from platform_common.kafka.topics import dlq_topic
from platform_common.observability.logging import get_logger
from platform_common.observability.metrics import EVENTS_DEAD_LETTERED
from platform_common.retry import retry_forever

log = get_logger(__name__)


class Record(Protocol):
    """What is needed of a consumed message (aiokafka's ConsumerRecord has it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] | None


class RawSender(Protocol):
    async def send_raw(self, topic: str, value: bytes, *, key: str | None = None,
                       headers: list[tuple[str, bytes]] | None = None) -> None: ...


async def dead_letter(producer: RawSender, record: Record, error: BaseException, *,
                      service: str, consumer_group: str, attempts: int) -> None:
    """`attempts`: how often handling was tried (0: the message could not even be read)."""
    headers = list(record.headers or []) + [
        ("dlq.error", str(error)[:2000].encode()),
        ("dlq.error_type", error.__class__.__name__.encode()),
        ("dlq.traceback", "".join(traceback.format_exception(error))[-4000:].encode()),
        ("dlq.topic", record.topic.encode()),
        ("dlq.partition", str(record.partition).encode()),
        ("dlq.offset", str(record.offset).encode()),
        ("dlq.attempts", str(attempts).encode()),
        ("dlq.consumer_group", consumer_group.encode()),
        ("dlq.failed_at", utcnow().isoformat().encode()),
    ]
    key = record.key.decode(errors="replace") if record.key else None
    await retry_forever("dead-letter", lambda: producer.send_raw(
        dlq_topic(record.topic), record.value or b"", key=key, headers=headers))
    EVENTS_DEAD_LETTERED.labels(service, record.topic).inc()
    log.error("event_dead_lettered", topic=record.topic, partition=record.partition,
              offset=record.offset, error=str(error)[:500], attempts=attempts)

"""The relay publishes outbox records in sequence order, marks after the ack, never skips."""
from __future__ import annotations

import pytest

from platform_common.events import make_event
from services.profiles.ports import OutboxRecord
from services.profiles.relay.loop import OutboxRelay
from services.profiles.settings import RelaySettings


def record(sequence: int) -> OutboxRecord:
    envelope = make_event("tenant.updated", tenant="t", subject=f"t{sequence}", source="profiles",
                          data={"id": "t", "name": "T", "center": {"lat": 1, "lon": 2},
                                "version": sequence})
    return OutboxRecord(id=sequence, sequence=sequence, topic="tenants", key="t", envelope=envelope)


class FakeOutbox:
    def __init__(self, count: int, lease_free: bool = True):
        self.records = [record(n) for n in range(1, count + 1)]
        self.published: list[int] = []
        self.lease_free = lease_free

    async def next_unpublished(self, *, limit):
        return [r for r in self.records if r.sequence not in self.published][:limit]

    async def remove_published(self, records):
        self.published.extend(record.sequence for record in records)

    async def backlog(self):
        return len(self.records) - len(self.published)

    async def acquire_lease(self, owner, *, now, ttl_s):
        return self.lease_free

    async def release_lease(self, owner):
        return None


class FlakyPublisher:
    def __init__(self, fail_on: dict[int, int] | None = None):
        self.sent: list[int] = []
        self.fail_on = dict(fail_on or {})  # sequence -> how many attempts fail

    async def publish_many(self, batch):
        """Like one partition: after a failure the rest of the request fails too."""
        errors, failed = [], None
        for envelope, _topic, _key in batch:
            sequence = envelope.data["version"]
            if failed is None and self.fail_on.get(sequence, 0) > 0:
                self.fail_on[sequence] -= 1
                failed = ConnectionError("broker unavailable")
            if failed is None:
                self.sent.append(sequence)
            errors.append(failed)
        return errors


def relay(outbox, publisher) -> OutboxRelay:
    return OutboxRelay(outbox=outbox, publisher=publisher, store=None, owner="test",
                       settings=RelaySettings(relay_batch_size=10))


async def test_publishes_in_sequence_order_and_marks_each_after_its_ack():
    outbox, publisher = FakeOutbox(5), FlakyPublisher()
    assert await relay(outbox, publisher).publish_pending() == 5
    assert publisher.sent == outbox.published == [1, 2, 3, 4, 5]


async def test_a_failure_stops_the_batch_and_the_same_record_goes_first_next_time():
    outbox, publisher = FakeOutbox(4), FlakyPublisher(fail_on={3: 2})
    worker = relay(outbox, publisher)
    for _attempt in range(2):
        with pytest.raises(ConnectionError):
            await worker.publish_pending()
        assert outbox.published == [1, 2]  # nothing after the failed record
    await worker.publish_pending()
    assert publisher.sent == outbox.published == [1, 2, 3, 4]


async def test_without_the_lease_nothing_is_published():
    outbox, publisher = FakeOutbox(3, lease_free=False), FlakyPublisher()
    await relay(outbox, publisher).publish_pending()
    assert publisher.sent == [] and outbox.published == []

"""The contract of profiles' outbox, the relay's side (services/profiles/ports.py: Outbox).

What the relay relies on: the events committed with the records come out oldest first, with
their topic and key, a batch at a time; the published ones leave (the backlog counts the
rest); and one lease lets one relay publish: its holder renews it, nobody else gets it until
it runs out or is released (only by its holder).

A concrete subclass provides the `outbox` fixture: (an empty ProfileStore, its Outbox).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from platform_common.events import make_event

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=timezone.utc)


def event(subject: str):
    return make_event("tenant.updated", tenant=subject, subject=subject, source="profiles",
                      data={"id": subject, "name": "T", "center": {"lat": 1, "lon": 2},
                            "version": 1})


async def commit(store, *subjects: str) -> None:
    async def work(repo):
        for subject in subjects:
            await repo.add_event(event(subject), topic="tenants", key=subject)
    await store.run_in_transaction(work)


class OutboxContract:
    async def test_committed_events_come_out_oldest_first_in_batches(self, outbox):
        store, relay_side = outbox
        await commit(store, "a", "b")
        await commit(store, "c")
        first = await relay_side.next_unpublished(limit=2)
        assert [(r.topic, r.key, r.envelope.subject) for r in first] == \
            [("tenants", "a", "a"), ("tenants", "b", "b")]
        assert first[0].sequence < first[1].sequence
        assert [r.key for r in await relay_side.next_unpublished(limit=10)] == ["a", "b", "c"]
        assert await relay_side.backlog() == 3

    async def test_published_records_leave_the_outbox(self, outbox):
        store, relay_side = outbox
        await commit(store, "a", "b", "c")
        await relay_side.remove_published(await relay_side.next_unpublished(limit=2))
        assert [r.key for r in await relay_side.next_unpublished(limit=10)] == ["c"]
        assert await relay_side.backlog() == 1
        await relay_side.remove_published(await relay_side.next_unpublished(limit=10))
        assert await relay_side.next_unpublished(limit=10) == []
        assert await relay_side.backlog() == 0

    async def test_one_relay_holds_the_lease_until_it_runs_out(self, outbox):
        _store, relay_side = outbox
        assert await relay_side.acquire_lease("relay-a", now=T0, ttl_s=15)
        assert not await relay_side.acquire_lease("relay-b", now=T0 + timedelta(seconds=5), ttl_s=15)
        assert await relay_side.acquire_lease("relay-a", now=T0 + timedelta(seconds=10), ttl_s=15)
        # Renewed at 10 s: still held at 20 s, free after 25 s.
        assert not await relay_side.acquire_lease("relay-b", now=T0 + timedelta(seconds=20), ttl_s=15)
        assert await relay_side.acquire_lease("relay-b", now=T0 + timedelta(seconds=26), ttl_s=15)
        assert not await relay_side.acquire_lease("relay-a", now=T0 + timedelta(seconds=27), ttl_s=15)

    async def test_only_the_holder_releases_the_lease(self, outbox):
        _store, relay_side = outbox
        assert await relay_side.acquire_lease("relay-a", now=T0, ttl_s=15)
        await relay_side.release_lease("relay-b")
        assert not await relay_side.acquire_lease("relay-b", now=T0, ttl_s=15)
        await relay_side.release_lease("relay-a")
        assert await relay_side.acquire_lease("relay-b", now=T0, ttl_s=15)

"""The incremental matcher's loop: feed -> engine -> announced transitions -> stored match set.

Every instance applies every item and tenant event to its own engine (`replica.py`, a
replicated index); an instance announces the transitions of a pair only while it owns the
pair's partition (the `items` partition of the pair's need, assigned by the faust consumer
group; `takeover.py`). The stored match set is the arbiter: a transition goes out only when
the stored state of the pair differs (`announcer.py`: write -> publish with acks -> commit).
After a crash, the next owner publishes the events of uncommitted batches again (same event
ids, so consumers deduplicate) and reconciles the engine's view with the stored pairs.
README.md has the whole argument.

At start the state comes from the latest snapshot plus the tail of the topics, or from a
full replay (`loading.py`); while live the worker snapshots its state now and then
(`snapshotting.py`, format in `snapshot.py`).
"""
from __future__ import annotations

import asyncio
import functools
import os
import signal
import time
import uuid
from contextlib import suppress

from platform_common.events import Envelope, read_event, utcnow
from platform_common.events.models import ActorErasedData, ItemData, TenantData
from platform_common.kafka.consumer import report_lag
from platform_common.kafka.dead_letter import dead_letter
from platform_common.observability.logging import get_logger
from platform_common.observability.metrics import EVENTS_DUPLICATE, EVENTS_PROCESSED
from platform_common.retry import retry_forever
from services.matching.domain.pairs import Side, pair_key
from services.matching.engine.model import Diff
from services.matching.ports import (
    EventFeed, EventPublisher, FeedRecord, GroupMembership, MatchStore, SnapshotStore,
)
from services.matching.settings import WorkerSettings
from services.matching.worker import loading, metrics
from services.matching.worker import snapshot as snapshots
from services.matching.worker.announcer import Announcer, PairChange
from services.matching.worker.replica import Cause, OnChange, OpenItem, Replica
from services.matching.worker.snapshotting import Snapshotter
from services.matching.worker.takeover import TakeOver

log = get_logger(__name__)


class MatchingWorker:
    def __init__(self, *, settings: WorkerSettings, engine, feed: EventFeed, store: MatchStore,
                 producer: EventPublisher, group: GroupMembership | None, items_topic: str,
                 snapshots: SnapshotStore | None = None):
        self.settings = settings
        self.feed, self.store, self.producer = feed, store, producer
        self.snapshots = snapshots  # None: no snapshots, every start replays in full
        # Joined once the engine caught up (None: announce for nothing, e.g. in a test).
        self.group = group
        self.items_topic = items_topic
        self.instance = f"{settings.service_name}-{uuid.uuid4().hex[:12]}"
        self.phase = "starting"
        self._lag_partitions: set = set()  # feed partitions with a consumer_lag_messages series
        self.replica = Replica(engine, partitions=settings.matching_partitions)
        # Until the feed has caught up in a full replay: the items, bulk-loaded at the end.
        self.staging: loading.Staging | None = loading.Staging()
        self.announcer = Announcer(instance=self.instance, store=store, producer=producer)
        self.takeover = TakeOver(instance=self.instance, store=store, feed=feed,
                                 replica=self.replica, announcer=self.announcer)
        self.snapshotter = Snapshotter(snapshots, settings)
        self._lock = asyncio.Lock()     # held while a batch or a take-over is under way
        self._settled = asyncio.Event()  # clear from a rebalance's start to its assignment
        self._task: asyncio.Task | None = None
        self._snapshot_task: asyncio.Task | None = None
        # Per feed (topic, partition): the offset after the last record applied (a batch is
        # fetched before it is applied, so the feed's own position may be ahead).
        self.applied_offsets: dict[tuple[str, int], int] = {}
        self.records_applied = 0
        self.topic_partitions: dict[str, int] = {}   # known once a snapshot store is asked
        self.startup: dict = {}                      # how the last start went (tests, bench)

    # What tests and benchmarks look at.
    @property
    def engine(self):
        return self.replica.engine

    @property
    def items(self) -> dict[str, OpenItem]:
        return self.replica.items

    @property
    def batch_no(self) -> int:
        return self.announcer.batch_no

    @property
    def last_reconcile(self) -> dict:
        return self.takeover.last_reconcile

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        partitions = self.feed.partition_count(self.items_topic) or self.settings.matching_partitions
        if partitions != self.settings.matching_partitions:
            log.warning("items_partition_count_differs", configured=self.settings.matching_partitions,
                        actual=partitions)
        self.replica.partitions = partitions
        await self.store.register_instance(self.instance)
        self._task = asyncio.create_task(self._run(), name="matching-worker")

    async def stop(self) -> None:
        for task in (self._task, self._snapshot_task):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):  # it ended either way
                    await task
        report_lag(self.settings.service_name, {}, self._lag_partitions)

    @property
    def ready(self) -> bool:
        """Live, and its first assignment taken over (so it announces for its partitions)."""
        return (self.phase == "live" and self.takeover.took_over_once and self._task is not None
                and not self._task.done())

    async def _run(self) -> None:
        try:
            await self._load()
            # Join the group only now: partitions go to instances that can announce at once.
            if self.group is not None:
                await self.group.start(self.replica.partitions, on_assigned=self.on_assigned,
                                       on_revoked=self.on_revoked)
            self.phase = "live"
            while True:
                await self._settled.wait()
                if self.group is not None and self.group.crashed:
                    # Without a live membership others get our partitions: stop announcing.
                    raise RuntimeError("the consumer group membership crashed")
                await self._take_over()
                await self._step()
                await self._maybe_snapshot()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A matcher that stopped must not look alive: end the process, the supervisor
            # (Kubernetes, the local stack) starts a fresh one that reconciles.
            log.error("matcher_failed", error=repr(exc), exc_info=exc)
            self.phase = "failed"
            os.kill(os.getpid(), signal.SIGTERM)
            raise

    async def _load(self) -> None:
        """From the latest snapshot plus the tail of the topics, or everything replayed from
        their beginning."""
        started = time.monotonic()
        self.phase = "restoring"
        restored = None
        if self.snapshots is not None:
            self.topic_partitions, restored = await loading.restore(
                self.replica, feed=self.feed, store=self.snapshots)
        if restored is not None:
            self.staging = None
            self.applied_offsets = dict(restored.offsets)
            self.takeover.resume_from(restored.announced)
        self.phase = "catching_up"
        applied_before = self.records_applied
        self.feed.request_catch_up()
        while not self.feed.caught_up:
            await self._step()
        if self.staging is not None:
            staging, self.staging = self.staging, None
            await staging.load_into(self.replica)
        seconds = time.monotonic() - started
        replayed = self.records_applied - applied_before
        self.startup = {"from_snapshot": restored is not None,
                        "restored_items": restored.open_items if restored is not None else 0,
                        "replayed_events": replayed, "seconds": round(seconds, 3)}
        metrics.STARTUP_SECONDS.set(seconds)
        metrics.STARTUP_REPLAYED.set(replayed)
        metrics.STARTUP_RESTORED_ITEMS.set(self.startup["restored_items"])
        log.info("matcher_loaded", open_items=len(self.replica.items),
                 tenants=len(self.replica.tenant_versions), **self.startup)
        self.snapshotter.loaded(restored=restored is not None, replayed=replayed)

    # ---- the group's decisions (called by faust during a rebalance) ---------------------------
    async def on_revoked(self) -> None:
        self._settled.clear()
        # Wait for a batch in flight: it was decided under the old assignment.
        await self._lock.acquire()
        self._lock.release()

    async def on_assigned(self, partitions: set[int]) -> None:
        self.takeover.assigned = set(partitions)
        self._settled.set()
        log.info("partitions_assigned", partitions=sorted(partitions), instance=self.instance)

    async def _take_over(self) -> None:
        async with self._lock:
            if self._settled.is_set():
                await self.takeover.run(go_on=self._settled.is_set)

    # ---- applying events ----------------------------------------------------------------------
    async def _step(self) -> None:
        records = await self.feed.next_batch(max_records=self.settings.matching_batch_size)
        lags = self.feed.lag_by_partition()
        metrics.FEED_LAG.set(sum(lags.values()))
        # The shared per-partition lag gauge too, so the consumer-lag alert covers the worker.
        report_lag(self.settings.service_name, lags, self._lag_partitions)
        if not records:
            return
        while True:
            if self.phase == "live":
                await self._settled.wait()
            async with self._lock:
                if self.phase == "live" and not self._settled.is_set():
                    continue  # a rebalance began meanwhile: wait for its outcome
                await self._apply_batch(records)
                return

    async def _apply_batch(self, records: list[FeedRecord]) -> None:
        changes: dict[str, PairChange] = {}
        on_change = functools.partial(self._collect, changes=changes)
        poison: list[tuple[FeedRecord, Exception, int]] = []  # (record, error, attempts)
        erased_items: list[str] = []
        for record in records:
            try:
                envelope, data = read_event(Envelope.from_bytes(record.value or b""))
            except Exception as exc:  # not an event of a known type and version
                poison.append((record, exc, 0))
                continue
            try:
                if isinstance(data, ItemData):
                    cause = Cause(envelope.occurred_at, _traceparent(record, envelope), record.headers)
                    applied = self._apply_item(data, cause, on_change)
                elif isinstance(data, TenantData):
                    applied = self.replica.apply_tenant(data, on_change)
                elif isinstance(data, ActorErasedData):
                    erased_items += data.item_ids
                    applied = True
                else:
                    applied = True  # other event types in these topics do not concern matching
            except (ValueError, TypeError) as exc:  # the engine refused the item's values
                poison.append((record, exc, 1))
                continue
            if applied:
                EVENTS_PROCESSED.labels(self.settings.service_name, record.topic, envelope.type).inc()
            else:
                EVENTS_DUPLICATE.labels(self.settings.service_name, record.topic).inc()
        metrics.ENGINE_ITEMS.set(len(self.replica.items))
        if changes:
            await self.announcer.announce(self.announcer.decide(changes))
        if erased_items:
            # Every instance does it (idempotent): pairs stored long ago keep no erased title.
            await retry_forever("forget erased titles", lambda: self.store.forget_titles(erased_items))
        for record, error, attempts in poison:
            await self._dead_letter(record, error, attempts)
        for record in records:
            self.applied_offsets[(record.topic, record.partition)] = record.offset + 1
        self.records_applied += len(records)
        self.snapshotter.events_since += len(records)
        await asyncio.sleep(0)

    def _apply_item(self, data: ItemData, cause: Cause, on_change: OnChange) -> bool:
        """False when the item event is not newer than what we hold."""
        if self.staging is not None:
            return self.staging.stage(data, cause.occurred_at)
        return self.replica.apply_item(data, cause, on_change)

    def _collect(self, diff: Diff, cause: Cause | None, gone: Side | None, *,
                 changes: dict[str, PairChange]) -> None:
        """Keep the newest change of every pair this instance announces for (and, restored
        from a snapshot, note every changed pair for the first take-over)."""
        self.takeover.note_changed(diff)
        owned = self.takeover.owned
        if not owned:
            return
        replica = self.replica
        for found, matches in ((True, diff.found), (False, diff.withdrawn)):
            for match in matches:
                partition = replica.partition_of(match.need_id)
                if partition not in owned:
                    continue
                changes[pair_key(match.offer_id, match.need_id)] = PairChange(
                    match, found, replica.side(match.offer_id, gone),
                    replica.side(match.need_id, gone), partition, cause)

    async def _dead_letter(self, record: FeedRecord, error: Exception, attempts: int) -> None:
        # Every instance reads every record: only the owner of its partition dead-letters it.
        if record.partition % self.replica.partitions not in self.takeover.owned:
            log.warning("event_rejected", topic=record.topic, partition=record.partition,
                        offset=record.offset, error=str(error)[:300])
            return
        await dead_letter(self.producer, record, error, service=self.settings.service_name,
                          consumer_group=self.settings.matching_group_id, attempts=attempts)

    # ---- snapshots ----------------------------------------------------------------------------
    async def _maybe_snapshot(self) -> None:
        """Copy the state between two batches (the pause), then encode and save it in the
        background while the matcher goes on."""
        # Only once the first assignment was taken over: then the snapshot also carries what
        # this instance announced for (README: the take-over after a restore).
        if (self.phase != "live" or not self.takeover.took_over_once
                or (self._snapshot_task is not None and not self._snapshot_task.done())
                or not self.snapshotter.due()):
            return
        async with self._lock:
            started = time.monotonic()
            state = self._capture()
            pause = time.monotonic() - started
        self.snapshotter.taken()
        self._snapshot_task = asyncio.create_task(self.snapshotter.save(state, pause),
                                                  name="matching-snapshot")

    def _capture(self) -> snapshots.WorkerState:
        """(under the lock) Between two batches every batch is committed and, for each owned
        partition, the stored pairs are what the engine holds (README: restart from a
        snapshot)."""
        takeover, announcer, replica = self.takeover, self.announcer, self.replica
        owned = [p for p in sorted(takeover.owned) if p in takeover.takes]
        announced = snapshots.Announced(
            instance=self.instance, batch=announcer.batch_no,
            takes={p: takeover.takes[p] for p in owned},
            stored={p: dict(announcer.stored.get(p, {})) for p in owned})
        return snapshots.WorkerState(
            engine=replica.engine.export_state(), items=list(replica.items.values()),
            tenant_versions=dict(replica.tenant_versions), offsets=dict(self.applied_offsets),
            partitions=dict(self.topic_partitions), owner_partitions=replica.partitions,
            instance=self.instance, taken_at=utcnow(), announced=announced)


def _traceparent(record: FeedRecord, envelope: Envelope) -> str | None:
    for name, value in record.headers:
        if name == "traceparent" and value:
            return value.decode(errors="replace")
    return envelope.traceparent

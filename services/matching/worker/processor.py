"""The incremental matcher's loop: feed -> engine -> announced transitions -> stored match set.

Every instance applies every item and tenant event to its own engine (a replicated index);
an instance announces the transitions of a pair only while it owns the pair's partition (the
`items` partition of the pair's need, assigned by the faust consumer group). The stored match
set is the arbiter: a transition goes out only when the stored state of the pair differs.

Per batch of events: apply them to the engine -> write the pairs' new states, each with the
event that announces it, stamped with (instance, batch number) -> publish the events and wait
for the broker's acks -> record the batch as committed. After a crash, the next owner
publishes the events of uncommitted batches again (same event ids, so consumers deduplicate)
and reconciles the engine's view with the stored pairs. README.md has the whole argument.

With a snapshot store, the worker starts from the latest snapshot of its state (engine,
open items, tenant versions, the feed offsets it covers) and replays only the tail of the
topics; while live it writes a new snapshot now and then (worker/snapshot.py).
"""
from __future__ import annotations

import asyncio
import functools
import os
import signal
import time
import uuid
from contextlib import suppress
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context

from platform_common.events import Envelope, make_event, read_event, utcnow
from platform_common.events.models import (
    ActorErasedData, ItemData, MatchData, MatchSide, TenantData,
)
from platform_common.kafka import dlq_topic
from platform_common.kafka.consumer import report_lag
from platform_common.observability.logging import get_logger
from platform_common.observability.metrics import (
    EVENTS_DEAD_LETTERED, EVENTS_DUPLICATE, EVENTS_PROCESSED,
)
from platform_common.observability.tracing import context_from_kafka_headers, tracer
from services.matching.domain.pairs import (
    Side, TransitionType, fingerprint, owner_partition, pair_key, reason_dicts, transition_for,
)
from services.matching.engine.model import Diff, Match
from services.matching.ports import (
    EventFeed, EventPublisher, FeedRecord, GroupMembership, MatchStore, SnapshotStore,
)
from services.matching.settings import WorkerSettings
from services.matching.translate import is_open, to_item, to_tenant
from services.matching.worker import metrics
from services.matching.worker import snapshot as snapshots

log = get_logger(__name__)
SOURCE = "matching"
RETRY_MAX_S = 5.0
PUBLISH_CHUNK = 200
ANNOUNCE_CHUNK = 2000


@dataclass
class OpenItem:
    """What the worker keeps of an open item besides the engine's copy."""

    side: Side
    kind: str
    partition: int          # the owner partition (meaningful for needs)
    changed_at: datetime


@dataclass(frozen=True)
class Cause:
    """The item event that caused a change: its time and trace context."""

    occurred_at: datetime
    traceparent: str | None
    headers: tuple[tuple[str, bytes], ...] = ()

    def context(self) -> Context:
        return context_from_kafka_headers(self.headers, self.traceparent)


@dataclass
class PairChange:
    match: Match
    found: bool
    offer: Side
    need: Side
    partition: int
    cause: Cause | None


@dataclass
class Announcement:
    """One transition on its way out: the stored document and the event announcing it."""

    key: str
    partition: int
    envelope: Envelope
    doc: dict[str, Any]
    fingerprint: str | None   # None for a withdrawal
    cause: Cause | None = None

    @property
    def type(self) -> str:
        return self.envelope.type


@dataclass
class Ownership:
    """The partitions this instance announces for, and the assignment still to take over."""

    owned: set[int] = field(default_factory=set)
    assigned: set[int] | None = None      # the newest assignment, not yet checked
    to_reconcile: set[int] = field(default_factory=set)


class MatchingWorker:
    def __init__(self, *, settings: WorkerSettings, engine, feed: EventFeed, store: MatchStore,
                 producer: EventPublisher, group: GroupMembership | None, items_topic: str,
                 snapshots: SnapshotStore | None = None):
        self.settings = settings
        self.engine = engine
        self.feed, self.store, self.producer = feed, store, producer
        self.snapshots = snapshots  # None: no snapshots, every start replays in full
        # Joined once the engine caught up (None: announce for nothing, e.g. in a test).
        self.group = group
        self.items_topic = items_topic
        self.instance = f"{settings.service_name}-{uuid.uuid4().hex[:12]}"
        self.partitions = settings.matching_partitions
        self.phase = "starting"
        self._lag_partitions: set = set()  # feed partitions with a consumer_lag_messages series
        # While loading: the newest snapshot of every item and when it changed; bulk-loaded
        # into the engine once the feed has caught up (no diffs needed before that).
        self.staging: dict[str, tuple[ItemData, datetime]] | None = {}
        self.items: dict[str, OpenItem] = {}           # open items
        self.needs_by_partition: dict[int, set[str]] = defaultdict(set)
        self.tenant_versions: dict[str, int] = {}
        # Stored "found" pairs of the owned partitions: partition -> pair key -> fingerprint.
        self.stored: dict[int, dict[str, str]] = {}
        self.ownership = Ownership()
        self.batch_no = 0
        self.took_over_once = False
        self._lock = asyncio.Lock()
        self._settled = asyncio.Event()
        self._task: asyncio.Task | None = None
        # Per feed (topic, partition): the offset after the last record applied (a batch is
        # fetched before it is applied, so the feed's own position may be ahead).
        self.applied_offsets: dict[tuple[str, int], int] = {}
        self.records_applied = 0
        self.topic_partitions: dict[str, int] = {}   # known once a snapshot store is asked
        self.startup: dict[str, Any] = {}            # how the last start went (tests, bench)
        self.last_reconcile: dict[str, Any] = {}     # what the last take-over did
        self.events_since_snapshot = 0
        self.last_snapshot_at: float | None = None   # monotonic; None: due once live
        self._snapshot_saved_at: float | None = None  # wall clock, for the age metric
        self._snapshot_task: asyncio.Task | None = None
        metrics.SNAPSHOT_AGE.set_function(self._snapshot_age)
        # Per partition we took: the token of our owner record (snapshots carry it).
        self.takes: dict[int, str] = {}
        # Restored from a snapshot, until the first take-over: what its instance announced, and
        # every pair whose state changed in an event applied since (key -> (partition, need)).
        self._announced: snapshots.Announced | None = None
        self._changed_since_snapshot: dict[str, tuple[int, str]] | None = None

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self.partitions = self.feed.partition_count(self.items_topic) or self.partitions
        if self.partitions != self.settings.matching_partitions:
            log.warning("items_partition_count_differs", configured=self.settings.matching_partitions,
                        actual=self.partitions)
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
        return (self.phase == "live" and self.took_over_once and self._task is not None
                and not self._task.done())

    async def _run(self) -> None:
        try:
            # From the latest snapshot plus the tail of the topics, or everything replayed
            # from their beginning.
            started = time.monotonic()
            self.phase = "restoring"
            restored = await self._restore()
            self.phase = "catching_up"
            applied_before = self.records_applied
            self.feed.request_catch_up()
            while not self.feed.caught_up:
                await self._step()
            if self.staging is not None:
                await self._bulk_load()
            self._loaded(restored, self.records_applied - applied_before,
                         time.monotonic() - started)
            # Join the group only now: partitions go to instances that can announce at once.
            if self.group is not None:
                await self.group.start(self.partitions, on_assigned=self.on_assigned,
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

    def _loaded(self, restored: int | None, replayed: int, seconds: float) -> None:
        """`restored`: the open items a snapshot gave (None: a full replay)."""
        self.startup = {"from_snapshot": restored is not None, "restored_items": restored or 0,
                        "replayed_events": replayed, "seconds": round(seconds, 3)}
        metrics.STARTUP_SECONDS.set(seconds)
        metrics.STARTUP_REPLAYED.set(replayed)
        metrics.STARTUP_RESTORED_ITEMS.set(restored or 0)
        log.info("matcher_loaded", open_items=len(self.items), tenants=len(self.tenant_versions),
                 **self.startup)
        # After a full replay the next start should not need one: snapshot once live.
        self.last_snapshot_at = time.monotonic() if restored is not None else None
        self.events_since_snapshot = replayed

    # ---- snapshots ----------------------------------------------------------------------------
    async def _restore(self) -> int | None:
        """Restore the latest snapshot (engine, open items, tenant versions) and point the feed
        at the offsets it covers; returns the open items restored. None (the state untouched,
        a full replay follows) when there is no snapshot or it does not fit, reason logged."""
        if self.snapshots is None:
            return None
        started = time.monotonic()
        try:
            earliest = await self.feed.beginning_offsets()
            self.topic_partitions = dict(Counter(topic for topic, _ in earliest))
            snapshot = await self.snapshots.latest()
        except Exception as exc:
            log.warning("snapshot_ignored", reason=f"unreadable: {exc!r}")
            return None
        if snapshot is None:
            log.info("snapshot_none", detail="no snapshot yet: full replay")
            return None
        reason = snapshots.unusable(snapshot.meta, engine_parameters=self.engine.parameters(),
                                    partitions=self.topic_partitions,
                                    owner_partitions=self.partitions)
        if reason is None:
            gone = [f"{topic}[{partition}] {offset} < {earliest.get((topic, partition), 0)}"
                    for topic, partition, offset in snapshot.meta["offsets"]
                    if offset < earliest.get((topic, partition), 0)]
            if gone:
                reason = ("the topics no longer hold every record after the snapshot "
                          f"(retention): {', '.join(gone[:3])}")
        if reason is not None:
            log.warning("snapshot_ignored", reason=reason, taken_at=snapshot.meta.get("taken_at"))
            return None
        size = snapshot.size
        try:
            engine, state, items, needs = await asyncio.to_thread(self._decode, snapshot)
        except Exception as exc:
            log.error("snapshot_ignored", reason=f"cannot be restored: {exc!r}", exc_info=exc)
            return None
        self.engine, self.staging = engine, None
        self.items, self.needs_by_partition = items, needs
        self.tenant_versions = state.tenant_versions
        self.applied_offsets = dict(state.offsets)
        self._announced = state.announced
        self._changed_since_snapshot = {} if state.announced is not None else None
        await self.feed.seek(state.offsets)
        metrics.ENGINE_ITEMS.set(len(self.items))
        log.info("snapshot_restored", taken_at=snapshot.meta["taken_at"], bytes=size,
                 open_items=len(items), seconds=round(time.monotonic() - started, 3))
        return len(items)

    def _decode(self, snapshot):
        """(in a thread) The engine, the worker's state, its open items and its needs by
        partition, from a snapshot (whose bytes are released once read)."""
        state = snapshots.decode(snapshot)
        snapshot.sections.clear()
        engine = type(self.engine).from_state(state.engine)
        items = {row[0]: OpenItem(Side(*row[:4]), row[4], row[5], row[6]) for row in state.items}
        needs: dict[int, set[str]] = defaultdict(set)
        for item_id, item in items.items():
            if item.kind == "need":
                needs[item.partition].add(item_id)
        return engine, state, items, needs

    def _snapshot_age(self) -> float:
        if self._snapshot_saved_at is None:
            return float("nan")
        return time.time() - self._snapshot_saved_at

    def _snapshot_due(self) -> bool:
        # Only once the first assignment was taken over: then the snapshot also carries what
        # this instance announced for (README: the take-over after a restore).
        if (self.snapshots is None or self.phase != "live" or not self.took_over_once
                or not self.events_since_snapshot):
            return False
        if self._snapshot_task is not None and not self._snapshot_task.done():
            return False
        if self.last_snapshot_at is None:
            return True
        interval = self.settings.matching_snapshot_interval_s
        every = self.settings.matching_snapshot_every_events
        return bool((interval and time.monotonic() - self.last_snapshot_at >= interval)
                    or (every and self.events_since_snapshot >= every))

    async def _maybe_snapshot(self) -> None:
        """Copy the state between two batches (the pause), then encode and save it in the
        background while the matcher goes on."""
        if not self._snapshot_due():
            return
        async with self._lock:
            started = time.monotonic()
            # Between two batches every batch is committed and, for each owned partition, the
            # stored pairs are what the engine holds (README: restart from a snapshot).
            owned = [p for p in sorted(self.ownership.owned) if p in self.takes]
            announced = snapshots.Announced(
                instance=self.instance, batch=self.batch_no,
                takes={p: self.takes[p] for p in owned},
                stored={p: dict(self.stored.get(p, {})) for p in owned})
            state = snapshots.WorkerState(
                engine=self.engine.export_state(), items=list(self.items.values()),
                tenant_versions=dict(self.tenant_versions), offsets=dict(self.applied_offsets),
                partitions=dict(self.topic_partitions), owner_partitions=self.partitions,
                instance=self.instance, taken_at=utcnow(), announced=announced)
            pause = time.monotonic() - started
        self.events_since_snapshot = 0
        self.last_snapshot_at = time.monotonic()
        self._snapshot_task = asyncio.create_task(self._save_snapshot(state, pause),
                                                  name="matching-snapshot")

    async def _save_snapshot(self, state: snapshots.WorkerState, pause: float) -> None:
        started = time.monotonic()
        try:
            snapshot = await asyncio.to_thread(snapshots.encode, state)
            encoded = time.monotonic()
            await self.snapshots.save(snapshot)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The next one is due after the interval; replaying a longer tail is the cost.
            metrics.SNAPSHOTS.labels("failed").inc()
            log.warning("snapshot_failed", error=repr(exc))
            return
        saved = time.monotonic()
        self._snapshot_saved_at = time.time()
        metrics.SNAPSHOTS.labels("saved").inc()
        metrics.SNAPSHOT_BYTES.set(snapshot.size)
        for stage, seconds in (("pause", pause), ("encode", encoded - started),
                               ("save", saved - encoded)):
            metrics.SNAPSHOT_SECONDS.labels(stage).set(seconds)
        log.info("snapshot_saved", bytes=snapshot.size, open_items=len(state.items),
                 pause_s=round(pause, 3), encode_s=round(encoded - started, 3),
                 save_s=round(saved - encoded, 3))

    # ---- the group's decisions (called by faust during a rebalance) ---------------------------
    async def on_revoked(self) -> None:
        self._settled.clear()
        await self._batch_finished()

    async def _batch_finished(self) -> None:
        """Wait for a batch in flight: it was decided under the old assignment."""
        await self._lock.acquire()
        self._lock.release()

    async def on_assigned(self, partitions: set[int]) -> None:
        self.ownership.assigned = set(partitions)
        self._settled.set()
        log.info("partitions_assigned", partitions=sorted(partitions), instance=self.instance)

    async def _take_over(self) -> None:
        """Check a new assignment, then reconcile the partitions that are new to us."""
        async with self._lock:
            if not self._settled.is_set():
                return
            assigned = self.ownership.assigned
            if assigned is not None:
                self.ownership.assigned = None
                owners = await self._retry("read partition owners", self.store.owners, assigned)
                # A partition stays ours without a reconcile only if nobody took it meanwhile.
                kept = {p for p in assigned
                        if p in self.ownership.owned and owners.get(p) == self.instance}
                self.ownership.owned = kept
                self.ownership.to_reconcile = set(assigned) - kept
                self.stored = {p: pairs for p, pairs in self.stored.items() if p in kept}
                metrics.OWNED_PARTITIONS.set(len(kept))
                if self.ownership.to_reconcile:
                    # The previous owner stopped before we were assigned: reading up to the
                    # current end means our engine has seen everything it announced.
                    self.feed.request_catch_up()
            if self.ownership.to_reconcile and self.feed.caught_up:
                partitions = self.ownership.to_reconcile
                self.ownership.to_reconcile = set()
                if await self._reconcile(partitions):
                    self.ownership.owned |= partitions
                    metrics.OWNED_PARTITIONS.set(len(self.ownership.owned))
            if not self.ownership.to_reconcile:
                self.took_over_once = True  # (only reached after the first assignment)

    # ---- loading and applying ---------------------------------------------------------------
    async def _bulk_load(self) -> None:
        staged, self.staging = self.staging or {}, None
        items, gone = [], []
        for data, changed_at in staged.values():
            if not is_open(data):
                gone.append((data, changed_at))
                continue
            try:
                items.append(to_item(data))
            except (ValueError, TypeError) as exc:
                log.error("item_rejected", id=data.id, version=data.version, error=str(exc)[:300])
                gone.append((data, changed_at))
                continue
            self._remember(data, changed_at)
        # The engine is not touched by anything else yet; a thread keeps /healthz answering.
        await asyncio.to_thread(self.engine.bulk_load, items)
        # Closed items leave a tombstone, so a redelivered older version cannot reopen them.
        for data, changed_at in sorted(gone, key=lambda entry: entry[1]):
            self.engine.remove(data.id, version=data.version, at=changed_at)
        metrics.ENGINE_ITEMS.set(len(self.items))

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
        poison: list[tuple[FeedRecord, Exception]] = []
        erased_items: list[str] = []
        for record in records:
            try:
                envelope, data = read_event(Envelope.from_bytes(record.value or b""))
            except Exception as exc:  # not an event of a known type and version
                poison.append((record, exc))
                continue
            try:
                if isinstance(data, ItemData):
                    cause = Cause(envelope.occurred_at, _traceparent(record, envelope), record.headers)
                    applied = self._apply_item(data, cause=cause, changes=changes)
                elif isinstance(data, TenantData):
                    applied = self._apply_tenant(data, changes=changes)
                elif isinstance(data, ActorErasedData):
                    erased_items += data.item_ids
                    applied = True
                else:
                    applied = True  # other event types in these topics do not concern matching
            except (ValueError, TypeError) as exc:  # the engine refused the item's values
                poison.append((record, exc))
                continue
            if applied:
                EVENTS_PROCESSED.labels(self.settings.service_name, record.topic, envelope.type).inc()
            else:
                EVENTS_DUPLICATE.labels(self.settings.service_name, record.topic).inc()
        metrics.ENGINE_ITEMS.set(len(self.items))
        if changes:
            await self._announce(self._decide(changes))
        if erased_items:
            # Every instance does it (idempotent): pairs stored long ago keep no erased title.
            await self._retry("forget erased titles", self.store.forget_titles, erased_items)
        for record, error in poison:
            await self._dead_letter(record, error)
        for record in records:
            self.applied_offsets[(record.topic, record.partition)] = record.offset + 1
        self.records_applied += len(records)
        self.events_since_snapshot += len(records)
        await asyncio.sleep(0)

    def _apply_tenant(self, data: TenantData, *, changes: dict | None = None) -> bool:
        if data.version <= self.tenant_versions.get(data.id, 0):
            return False
        self.tenant_versions[data.id] = data.version
        diff = self.engine.upsert_tenant(to_tenant(data))
        if changes is not None:
            self._collect(diff, cause=None, changes=changes)
        return True

    def _apply_item(self, data: ItemData, *, cause: Cause | None, changes: dict | None) -> bool:
        """Apply one item snapshot; False when it is not newer than what we hold."""
        if data.version <= self._known_version(data.id):
            return False
        changed_at = cause.occurred_at if cause is not None else data.updated_at
        if self.staging is not None:
            self.staging[data.id] = (data, changed_at)
            return True
        # Withdrawals show the item as its newest snapshot has it (an erased person's item
        # comes without its title).
        side = Side(data.id, data.actor_id, data.tenant, data.title)
        if is_open(data):
            try:
                item = to_item(data)
            except (ValueError, TypeError):
                # The newest version is unusable: the item leaves matching, then the event is
                # dead-lettered by the caller.
                self._remove(data.id, data.version, side, cause, changes)
                raise
            self._remember(data, changed_at)
            # The event's time ages the engine's tombstones (pruned after their retention).
            diff = self.engine.upsert(item, at=changed_at)
            if changes is not None:
                self._collect(diff, cause=cause, changes=changes, gone=side)
        else:
            self._remove(data.id, data.version, side, cause, changes)
        return True

    def _known_version(self, item_id: str) -> int:
        """The newest version seen: while loading, the staged snapshot's; then the engine's
        (an open item's, or a closed one's tombstone, pruned after the engine's retention, so
        memory stays bounded by the open items)."""
        if self.staging is not None:
            staged = self.staging.get(item_id)
            return staged[0].version if staged is not None else 0
        return self.engine.version_of(item_id) or 0

    def _remember(self, data: ItemData, changed_at: datetime) -> None:
        partition = owner_partition(data.id, self.partitions)
        self.items[data.id] = OpenItem(side=Side(data.id, data.actor_id, data.tenant, data.title),
                                       kind=data.kind, partition=partition, changed_at=changed_at)
        if data.kind == "need":
            self.needs_by_partition[partition].add(data.id)

    def _remove(self, item_id: str, version: int, side: Side, cause: Cause | None,
                changes: dict | None) -> None:
        diff = self.engine.remove(item_id, version=version,
                                  at=cause.occurred_at if cause is not None else None)
        previous = self.items.pop(item_id, None)
        if previous is not None and previous.kind == "need":
            self.needs_by_partition[previous.partition].discard(item_id)
        if changes is not None:
            self._collect(diff, cause=cause, changes=changes, gone=side)

    def _side(self, item_id: str, gone: Side | None) -> Side:
        """An item's side: open items from memory, the item that just left from its event."""
        if gone is not None and gone.id == item_id:
            return gone
        known = self.items.get(item_id)
        if known is not None:
            return known.side
        return Side(item_id, "", "", "")

    def _collect(self, diff: Diff, *, cause: Cause | None, changes: dict[str, PairChange],
                 gone: Side | None = None) -> None:
        """Keep the newest change of every pair this instance announces for (and, restored
        from a snapshot, note every changed pair for the first take-over)."""
        changed = self._changed_since_snapshot
        if changed is not None:
            for match in (*diff.found, *diff.withdrawn):
                changed[pair_key(match.offer_id, match.need_id)] = (
                    self._partition_of(match.need_id), match.need_id)
        owned = self.ownership.owned
        if not owned:
            return
        for found, matches in ((True, diff.found), (False, diff.withdrawn)):
            for match in matches:
                partition = self._partition_of(match.need_id)
                if partition not in owned:
                    continue
                changes[pair_key(match.offer_id, match.need_id)] = PairChange(
                    match, found, self._side(match.offer_id, gone), self._side(match.need_id, gone),
                    partition, cause)

    def _partition_of(self, need_id: str) -> int:
        need = self.items.get(need_id)
        return need.partition if need is not None else owner_partition(need_id, self.partitions)

    # ---- deciding and announcing ------------------------------------------------------------
    def _decide(self, changes: dict[str, PairChange]) -> list[Announcement]:
        announcements = []
        for key, change in changes.items():
            stored = self.stored.get(change.partition, {}).get(key)
            transition = transition_for(change.match if change.found else None, stored)
            if transition is not None:
                announcements.append(self._announcement(
                    transition, key=key, partition=change.partition, match=change.match,
                    offer=change.offer, need=change.need, cause=change.cause))
        return announcements

    def _announcement(self, transition: TransitionType, *, key: str, partition: int,
                      match: Match, offer: Side, need: Side, cause: Cause | None,
                      caused_at: datetime | None = None) -> Announcement:
        caused_at = cause.occurred_at if cause is not None else caused_at
        data = MatchData(offer=MatchSide(**offer.as_dict()), need=MatchSide(**need.as_dict()),
                         score=match.score, reasons=reason_dicts(match), caused_by_event_at=caused_at)
        envelope = make_event(transition, tenant=need.tenant or offer.tenant or "unknown",
                              subject=key, source=SOURCE, data=data)
        if cause is not None and cause.traceparent:
            envelope = envelope.model_copy(update={"traceparent": cause.traceparent})
        print_ = fingerprint(match) if transition == "match.found" else None
        return Announcement(key=key, partition=partition, envelope=envelope,
                            doc=_pair_doc(key, partition, envelope, data, print_),
                            fingerprint=print_, cause=cause)

    async def _announce(self, announcements: list[Announcement], *,
                        interruptible: bool = False) -> bool:
        """Announce in batches of ANNOUNCE_CHUNK; False when a rebalance interrupted it
        (`interruptible`: a takeover gives way, the new owner reconciles the rest)."""
        for start in range(0, len(announcements), ANNOUNCE_CHUNK):
            if interruptible and not self._settled.is_set():
                return False
            await self._announce_batch(announcements[start:start + ANNOUNCE_CHUNK])
        return True

    async def _announce_batch(self, announcements: list[Announcement]) -> None:
        """Write -> publish (acks) -> commit; then the in-memory view of the stored set."""
        self.batch_no += 1
        batch = {"instance": self.instance, "n": self.batch_no}
        for announcement in announcements:
            announcement.doc["batch"] = batch
            announcement.doc["updated_at"] = utcnow()
        new_keys = {a.key for a in announcements if a.key not in self.stored.get(a.partition, {})}
        await self._retry("write pair states", functools.partial(self.store.write, new_keys=new_keys),
                          [a.doc for a in announcements])
        await self._publish_all(announcements)
        await self._retry("commit batch", self.store.commit, self.instance, self.batch_no)
        now = utcnow()
        for announcement in announcements:
            pairs = self.stored.setdefault(announcement.partition, {})
            if announcement.fingerprint is None:
                pairs.pop(announcement.key, None)
            else:
                pairs[announcement.key] = announcement.fingerprint
            metrics.TRANSITIONS.labels(announcement.type).inc()
            if announcement.cause is not None:
                metrics.MATCH_LATENCY.labels(announcement.type).observe(
                    max(0.0, (now - announcement.cause.occurred_at).total_seconds()))

    async def _publish_all(self, announcements: list[Announcement]) -> None:
        # A few hundred sends in flight keep the producer's batches full; many thousands of
        # concurrent waiters on its full buffer only wake each other up.
        for start in range(0, len(announcements), PUBLISH_CHUNK):
            await self._publish_chunk(announcements[start:start + PUBLISH_CHUNK])

    async def _publish_chunk(self, announcements: list[Announcement]) -> None:
        waiting = announcements
        delay = 0.2
        while waiting:
            results = await asyncio.gather(*(self._publish(a) for a in waiting),
                                           return_exceptions=True)
            errors = [result for result in results if isinstance(result, Exception)]
            failed = [a for a, result in zip(waiting, results) if isinstance(result, Exception)]
            if failed:
                log.warning("publish_failed", count=len(failed), error=repr(errors[0]),
                            retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
            waiting = failed

    async def _publish(self, announcement: Announcement) -> None:
        parent = announcement.cause.context() if announcement.cause is not None else None
        with tracer().start_as_current_span(f"announce {announcement.type}", context=parent,
                                            kind=trace.SpanKind.INTERNAL) as span:
            span.set_attribute("matching.pair", announcement.key)
            await self.producer.publish(announcement.envelope, key=announcement.key)

    async def _retry(self, what: str, operation, *args):
        delay = 0.2
        while True:
            try:
                return await operation(*args)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("store_operation_failed", operation=what, error=repr(exc),
                            retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    # ---- reconciling ------------------------------------------------------------------------
    async def _reconcile(self, partitions: set[int]) -> bool:
        """Take over `partitions`: make the announced events and the stored pairs match the
        engine's view. False when a rebalance began meanwhile (the partitions stay not ours)."""
        started = time.monotonic()
        log.info("reconcile_started", partitions=sorted(partitions))
        resumable = await self._resumable(partitions)  # read before our take replaces them
        await self._retry("take ownership", self.store.take_ownership, self.instance, partitions)
        records = await self._retry("read owner records", self.store.owner_records, partitions)
        self.takes.update({p: take for p, (instance, take) in records.items()
                           if instance == self.instance})
        if partitions - resumable:
            self.stored.update(await self._retry("load stored pairs", self.store.found_fingerprints,
                                                 partitions - resumable))
        # Partitions nobody took since our snapshot: only pairs changed since need a look.
        to_check = {p: await self._resume_view(p) for p in sorted(resumable)}
        self._announced = self._changed_since_snapshot = None  # for the first take-over only
        # Events of an interrupted batch may be missing from the topic: publish them again.
        unfinished = await self._retry("load uncommitted pairs", self._uncommitted, partitions)
        if not await self._announce([_announcement_from_doc(doc) for doc in unfinished],
                                    interruptible=True):
            return self._reconcile_interrupted(partitions)
        metrics.REPUBLISHED.inc(len(unfinished))
        wanted: dict[str, tuple[int, Match]] = {}
        for partition in partitions:
            keys = to_check.get(partition)
            needs = set(keys.values()) if keys is not None else self.needs_by_partition.get(partition, ())
            for count, need_id in enumerate(list(needs)):
                for match in self.engine.matches_for(need_id):
                    key = pair_key(match.offer_id, match.need_id)
                    if keys is None or key in keys:
                        wanted[key] = (partition, match)
                if count % 500 == 499:
                    await asyncio.sleep(0)  # long takeovers must not starve /healthz
        announcements = []
        for key, (partition, match) in wanted.items():
            stored = self.stored.get(partition, {}).get(key)
            if transition_for(match, stored) is not None:
                offer, need = self._side(match.offer_id, None), self._side(match.need_id, None)
                changed_at = max((self.items[i].changed_at for i in (match.offer_id, match.need_id)
                                  if i in self.items), default=None)
                announcements.append(self._announcement(
                    "match.found", key=key, partition=partition, match=match, offer=offer,
                    need=need, cause=None, caused_at=changed_at))
        gone = [key for partition in partitions
                for key in to_check.get(partition, self.stored.get(partition, {}))
                if key in self.stored.get(partition, {}) and key not in wanted]
        for doc in await self._retry("load withdrawn pairs", self.store.get_many, gone):
            announcements.append(_withdrawal_from_doc(doc))
        if not await self._announce(announcements, interruptible=True):
            return self._reconcile_interrupted(partitions)
        self.last_reconcile = {
            "partitions": sorted(partitions), "republished": len(unfinished),
            "announced": len(announcements), "seconds": round(time.monotonic() - started, 3),
            # partition -> pairs checked, where the snapshot spared checking the others
            "from_snapshot": {p: len(keys) for p, keys in to_check.items()}}
        log.info("reconcile_finished", **self.last_reconcile)
        return True

    async def _resumable(self, partitions: set[int]) -> set[int]:
        """The partitions whose owner record is still the one the snapshot's instance left:
        since the snapshot nobody else took them, so only that instance wrote their pairs."""
        announced = self._announced
        if announced is None:
            return set()
        records = await self._retry("read owner records", self.store.owner_records, partitions)
        return {p for p in partitions if p in announced.takes
                and records.get(p) == (announced.instance, announced.takes[p])}

    async def _resume_view(self, partition: int) -> dict[str, str]:
        """The stored found pairs of a partition taken over from the snapshot's instance: its
        view then, updated with the pairs it wrote after. Returns the pairs that may differ
        from the engine's view (pair key -> need id): those written since the snapshot and
        those changed by an event applied since. Every other pair was stored as the snapshot's
        engine held it, and no event changed it since."""
        announced = self._announced
        view = dict(announced.stored.get(partition, {}))
        to_check = {key: need for key, (p, need) in self._changed_since_snapshot.items()
                    if p == partition}
        for doc in await self._retry("load pairs written since the snapshot", self.store.written_after,
                                     partition, announced.instance, announced.batch):
            to_check[doc["_id"]] = doc["need_id"]
            if doc["state"] == "found":
                view[doc["_id"]] = doc["fingerprint"]
            else:
                view.pop(doc["_id"], None)
        self.stored[partition] = view
        return to_check

    def _reconcile_interrupted(self, partitions: set[int]) -> bool:
        for partition in partitions:
            self.stored.pop(partition, None)
        log.info("reconcile_interrupted", partitions=sorted(partitions))
        return False

    async def _uncommitted(self, partitions: set[int]) -> list[dict[str, Any]]:
        return await self.store.uncommitted(partitions, partition_count=self.partitions)

    # ---- poison ------------------------------------------------------------------------------
    async def _dead_letter(self, record: FeedRecord, error: Exception) -> None:
        # Every instance reads every record: only the owner of its partition dead-letters it.
        if record.partition % self.partitions not in self.ownership.owned:
            log.warning("event_rejected", topic=record.topic, partition=record.partition,
                        offset=record.offset, error=str(error)[:300])
            return
        headers = list(record.headers) + [
            ("dlq.error", str(error)[:2000].encode()),
            ("dlq.error_type", error.__class__.__name__.encode()),
            ("dlq.topic", record.topic.encode()),
            ("dlq.partition", str(record.partition).encode()),
            ("dlq.offset", str(record.offset).encode()),
            ("dlq.consumer_group", self.settings.matching_group_id.encode()),
            ("dlq.failed_at", utcnow().isoformat().encode()),
        ]
        key = record.key.decode(errors="replace") if record.key else None
        await self._retry("dead-letter", functools.partial(
            self.producer.send_raw, dlq_topic(record.topic), record.value or b"", key=key,
            headers=headers))
        EVENTS_DEAD_LETTERED.labels(self.settings.service_name, record.topic).inc()
        log.error("event_dead_lettered", topic=record.topic, partition=record.partition,
                  offset=record.offset, error=str(error)[:500])


def _traceparent(record: FeedRecord, envelope: Envelope) -> str | None:
    for name, value in record.headers:
        if name == "traceparent" and value:
            return value.decode(errors="replace")
    return envelope.traceparent


def _pair_doc(key: str, partition: int, envelope: Envelope, data: MatchData,
              print_: str | None) -> dict[str, Any]:
    """The stored state of a pair: found (with its fingerprint) or withdrawn (None)."""
    payload = data.model_dump(mode="json")
    return {
        "_id": key,
        "offer_id": data.offer.id,
        "need_id": data.need.id,
        "need_partition": partition,
        "state": "withdrawn" if print_ is None else "found",
        "score": data.score,
        "reasons": payload["reasons"],
        "offer": payload["offer"],
        "need": payload["need"],
        "fingerprint": print_,
        "caused_by_event_at": data.caused_by_event_at,
        "event": {"id": str(envelope.id), "type": envelope.type, "tenant": envelope.tenant,
                  "occurred_at": envelope.occurred_at, "traceparent": envelope.traceparent},
    }


def _data_from_doc(doc: dict[str, Any]) -> MatchData:
    return MatchData(offer=doc["offer"], need=doc["need"], score=doc["score"],
                     reasons=doc.get("reasons", []), caused_by_event_at=doc.get("caused_by_event_at"))


def _announcement_from_doc(doc: dict[str, Any]) -> Announcement:
    """The stored announcement of a pair, unchanged (same event id): for publishing again."""
    event = doc["event"]
    envelope = Envelope(id=uuid.UUID(event["id"]), type=event["type"], version=1,
                        tenant=event["tenant"], occurred_at=event["occurred_at"], source=SOURCE,
                        subject=doc["_id"], traceparent=event.get("traceparent"),
                        data=_data_from_doc(doc).model_dump(mode="json"))
    clean = {k: v for k, v in doc.items() if k not in ("batch", "updated_at")}
    return Announcement(key=doc["_id"], partition=doc["need_partition"], envelope=envelope,
                        doc=clean, fingerprint=doc.get("fingerprint") if doc["state"] == "found" else None)


def _withdrawal_from_doc(doc: dict[str, Any]) -> Announcement:
    """A new withdrawal of a stored pair the engine no longer matches."""
    data = _data_from_doc(doc).model_copy(update={"caused_by_event_at": utcnow()})
    envelope = make_event("match.withdrawn", tenant=doc["need"].get("tenant") or "unknown",
                          subject=doc["_id"], source=SOURCE, data=data)
    return Announcement(key=doc["_id"], partition=doc["need_partition"], envelope=envelope,
                        doc=_pair_doc(doc["_id"], doc["need_partition"], envelope, data, None),
                        fingerprint=None)

"""Which partitions of `items` this instance announces for, and taking new ones over (README,
"Taking over partitions" and "The take-over after a restore checks only what can differ").

An assignment is checked first: a partition that stays with this instance, and whose owner
record still names it, is kept as it is. The others are reconciled once the feed has read
everything that existed at the assignment (the previous owner stopped before it, so the
engine has then seen all it announced): record the new owner, load the stored found pairs,
publish again what uncommitted batches wrote, then announce every difference between the
engine's pairs and the stored ones.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from platform_common.observability.logging import get_logger
from platform_common.retry import retry_forever
from services.matching.domain.pairs import pair_key, transition_for
from services.matching.engine.model import Diff, Match
from services.matching.ports import EventFeed, MatchStore
from services.matching.worker import metrics
from services.matching.worker.announcer import Announcer, announcement, republication, withdrawal
from services.matching.worker.replica import Replica
from services.matching.worker.snapshot import Announced

log = get_logger(__name__)


class TakeOver:
    def __init__(self, *, instance: str, store: MatchStore, feed: EventFeed, replica: Replica,
                 announcer: Announcer):
        self.instance = instance
        self.store, self.feed, self.replica, self.announcer = store, feed, replica, announcer
        self.owned: set[int] = set()              # the partitions this instance announces for
        self.assigned: set[int] | None = None     # the newest assignment, not checked yet
        self.to_reconcile: set[int] = set()
        self.took_over_once = False
        # Per partition we took: the token of our owner record (snapshots carry it).
        self.takes: dict[int, str] = {}
        self.last_reconcile: dict[str, Any] = {}  # what the last reconcile did (tests, bench)
        # Restored from a snapshot, until the first take-over: what its instance announced, and
        # every pair whose state changed in an event applied since (key -> (partition, need)).
        self._announced: Announced | None = None
        self._changed_since_snapshot: dict[str, tuple[int, str]] | None = None

    def resume_from(self, announced: Announced | None) -> None:
        """Restored from a snapshot: its announced state lets the first take-over check only
        what can differ; from now on every changed pair is noted for it."""
        self._announced = announced
        self._changed_since_snapshot = {} if announced is not None else None

    def note_changed(self, diff: Diff) -> None:
        changed = self._changed_since_snapshot
        if changed is None:
            return
        for match in (*diff.found, *diff.withdrawn):
            changed[pair_key(match.offer_id, match.need_id)] = (
                self.replica.partition_of(match.need_id), match.need_id)

    async def run(self, go_on: Callable[[], bool]) -> None:
        """Check a new assignment, then reconcile the partitions that are new to us once the
        feed has caught up. `go_on()` turns False when the next rebalance begins."""
        assigned = self.assigned
        if assigned is not None:
            self.assigned = None
            owners = await retry_forever("read partition owners", lambda: self.store.owners(assigned))
            # A partition stays ours without a reconcile only if nobody took it meanwhile.
            kept = {p for p in assigned if p in self.owned and owners.get(p) == self.instance}
            self.owned = kept
            self.to_reconcile = set(assigned) - kept
            self.announcer.stored = {p: pairs for p, pairs in self.announcer.stored.items()
                                     if p in kept}
            metrics.OWNED_PARTITIONS.set(len(kept))
            if self.to_reconcile:
                # The previous owner stopped before we were assigned: reading up to the
                # current end means our engine has seen everything it announced.
                self.feed.request_catch_up()
        if self.to_reconcile and self.feed.caught_up:
            partitions, self.to_reconcile = self.to_reconcile, set()
            if await self.reconcile(partitions, go_on):
                self.owned |= partitions
                metrics.OWNED_PARTITIONS.set(len(self.owned))
        if not self.to_reconcile:
            self.took_over_once = True  # (only reached after the first assignment)

    async def reconcile(self, partitions: set[int], go_on: Callable[[], bool]) -> bool:
        """Make the announced events and the stored pairs of `partitions` match the engine's
        view. False when a rebalance began meanwhile (the partitions stay not ours)."""
        started = time.monotonic()
        store, stored = self.store, self.announcer.stored
        log.info("reconcile_started", partitions=sorted(partitions))
        resumable = await self._resumable(partitions)  # read before our take replaces them
        await retry_forever("take ownership", lambda: store.take_ownership(self.instance, partitions))
        records = await retry_forever("read owner records", lambda: store.owner_records(partitions))
        self.takes.update({p: take for p, (instance, take) in records.items()
                           if instance == self.instance})
        if partitions - resumable:
            stored.update(await retry_forever("load stored pairs", lambda: store.found_fingerprints(
                partitions - resumable)))
        # Partitions nobody took since our snapshot: only pairs changed since need a look.
        to_check = {p: await self._resume_view(p) for p in sorted(resumable)}
        self._announced = self._changed_since_snapshot = None  # for the first take-over only
        # Events of an interrupted batch may be missing from the topic: publish them again.
        unfinished = await retry_forever("load uncommitted pairs", lambda: store.uncommitted(
            partitions, partition_count=self.replica.partitions))
        if not await self.announcer.announce([republication(doc) for doc in unfinished],
                                             go_on=go_on):
            return self._interrupted(partitions)
        metrics.REPUBLISHED.inc(len(unfinished))
        wanted: dict[str, tuple[int, Match]] = {}
        for partition in partitions:
            keys = to_check.get(partition)
            needs = (set(keys.values()) if keys is not None
                     else self.replica.needs_by_partition.get(partition, ()))
            for count, need_id in enumerate(list(needs)):
                for match in self.replica.engine.matches_for(need_id):
                    key = pair_key(match.offer_id, match.need_id)
                    if keys is None or key in keys:
                        wanted[key] = (partition, match)
                if count % 500 == 499:
                    await asyncio.sleep(0)  # long takeovers must not starve /healthz
        announcements = []
        for key, (partition, match) in wanted.items():
            if transition_for(match, stored.get(partition, {}).get(key)) is not None:
                announcements.append(announcement(
                    "match.found", key=key, partition=partition, match=match,
                    offer=self.replica.side(match.offer_id), need=self.replica.side(match.need_id),
                    cause=None, caused_at=self.replica.changed_at((match.offer_id, match.need_id))))
        gone = [key for partition in partitions
                for key in to_check.get(partition, stored.get(partition, {}))
                if key in stored.get(partition, {}) and key not in wanted]
        for doc in await retry_forever("load withdrawn pairs", lambda: store.get_many(gone)):
            announcements.append(withdrawal(doc))
        if not await self.announcer.announce(announcements, go_on=go_on):
            return self._interrupted(partitions)
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
        records = await retry_forever("read owner records",
                                      lambda: self.store.owner_records(partitions))
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
        written = await retry_forever("load pairs written since the snapshot",
                                      lambda: self.store.written_after(
                                          partition, announced.instance, announced.batch))
        for doc in written:
            to_check[doc["_id"]] = doc["need_id"]
            if doc["state"] == "found":
                view[doc["_id"]] = doc["fingerprint"]
            else:
                view.pop(doc["_id"], None)
        self.announcer.stored[partition] = view
        return to_check

    def _interrupted(self, partitions: set[int]) -> bool:
        for partition in partitions:
            self.announcer.stored.pop(partition, None)
        log.info("reconcile_interrupted", partitions=sorted(partitions))
        return False

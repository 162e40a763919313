"""When the live worker takes a snapshot of its state, and saving one in the background
(README, "Taking one"; what a snapshot holds: worker/snapshot.py)."""
from __future__ import annotations

import asyncio
import time

from platform_common.observability.logging import get_logger
from services.matching.ports import SnapshotStore
from services.matching.settings import WorkerSettings
from services.matching.worker import metrics
from services.matching.worker import snapshot as snapshots

log = get_logger(__name__)


class Snapshotter:
    def __init__(self, store: SnapshotStore | None, settings: WorkerSettings):
        self.store = store  # None: no snapshots, every start replays in full
        self.interval_s = settings.matching_snapshot_interval_s
        self.every_events = settings.matching_snapshot_every_events
        self.events_since = 0                     # events applied since the last snapshot
        self.last_at: float | None = None         # monotonic; None: due once live
        self._saved_at: float | None = None       # wall clock, for the age metric
        metrics.SNAPSHOT_AGE.set_function(self._age)

    def loaded(self, *, restored: bool, replayed: int) -> None:
        """After a full replay the next start should not need one: a snapshot is due at once."""
        self.last_at = time.monotonic() if restored else None
        self.events_since = replayed

    def due(self) -> bool:
        """Events were applied since the last snapshot, and its interval or event count passed."""
        if self.store is None or not self.events_since:
            return False
        if self.last_at is None:
            return True
        return bool((self.interval_s and time.monotonic() - self.last_at >= self.interval_s)
                    or (self.every_events and self.events_since >= self.every_events))

    def taken(self) -> None:
        self.events_since = 0
        self.last_at = time.monotonic()

    async def save(self, state: snapshots.WorkerState, pause: float) -> None:
        """Encode (in a thread) and save a captured state; `pause`: how long capturing it held
        the worker up. A failure is logged: the next one is due after the interval, replaying
        a longer tail is the cost."""
        started = time.monotonic()
        try:
            snapshot = await asyncio.to_thread(snapshots.encode, state)
            encoded = time.monotonic()
            await self.store.save(snapshot)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            metrics.SNAPSHOTS.labels("failed").inc()
            log.warning("snapshot_failed", error=repr(exc))
            return
        saved = time.monotonic()
        self._saved_at = time.time()
        metrics.SNAPSHOTS.labels("saved").inc()
        metrics.SNAPSHOT_BYTES.set(snapshot.size)
        for stage, seconds in (("pause", pause), ("encode", encoded - started),
                               ("save", saved - encoded)):
            metrics.SNAPSHOT_SECONDS.labels(stage).set(seconds)
        log.info("snapshot_saved", bytes=snapshot.size, open_items=len(state.items),
                 pause_s=round(pause, 3), encode_s=round(encoded - started, 3),
                 save_s=round(saved - encoded, 3))

    def _age(self) -> float:
        if self._saved_at is None:
            return float("nan")
        return time.time() - self._saved_at

"""The contract of matching's snapshot port (services/matching/ports.py: SnapshotStore).

What the worker relies on: `latest()` gives back the most recently saved snapshot whole (its
meta as JSON data, every section byte for byte, in order), None before the first save; only
the two newest are kept.

A concrete subclass provides the `snapshots` fixture (an empty store) and `kept(snapshots)`,
how many snapshots the store holds (adapter-specific: the port has no listing).
"""
from __future__ import annotations

import os

from services.matching.ports import Snapshot


def snapshot(n: int, *, big: int = 0) -> Snapshot:
    meta = {"format": 1, "n": n, "offsets": [["items", 0, 10 * n], ["tenants", 1, 3]],
            "engine": {"k": 10, "cell_deg": [0.1, 0.15], "tombstone_retention_s": None}}
    sections = {"engine.array.row": os.urandom(1000 + n), "empty": b"",
                "engine.prep.00000": bytes(range(256)) * 4}
    if big:
        sections["large"] = os.urandom(big)
    return Snapshot(meta=meta, sections=sections)


class SnapshotStoreContract:
    async def kept(self, snapshots) -> int:
        raise NotImplementedError

    async def test_nothing_saved_means_no_snapshot(self, snapshots):
        assert await snapshots.latest() is None

    async def test_a_saved_snapshot_comes_back_whole(self, snapshots):
        saved = snapshot(1, big=3_000_000)
        await snapshots.save(saved)
        loaded = await snapshots.latest()
        assert loaded.meta == saved.meta
        assert list(loaded.sections) == list(saved.sections)
        assert all(loaded.sections[name] == data for name, data in saved.sections.items())
        assert loaded.size == saved.size

    async def test_the_latest_is_the_one_saved_last_and_two_are_kept(self, snapshots):
        for n in range(1, 5):
            await snapshots.save(snapshot(n))
            assert (await snapshots.latest()).meta["n"] == n
            assert await self.kept(snapshots) == min(n, 2)

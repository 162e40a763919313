"""A worker that keeps snapshots is SIGKILLed; the next one starts from its snapshot, replays
only the records published after it, and the stored match set ends equal to the brute-force
oracle's over every item, as a full replay would give it.

Runs on the session's stack: its worker is restarted with snapshots on (a directory store); the
restored worker stays the session's worker (snapshots every 5 minutes, as configured by
default), so the session pays no extra restart."""
from __future__ import annotations

import asyncio
import json
import signal

import httpx
import pytest

from services.matching.adapters.snapshots import DirectorySnapshotStore
from services.matching.worker import snapshot as snapshots
from tests.integration.matching.conftest import publish_all
from tests.integration.matching.streams import Stream, build_stream, tenant_event
from tests.support.waiting import eventually, until_complete

pytestmark = pytest.mark.integration


async def stored_pairs(matching_db, stream: Stream) -> set[tuple[str, str]]:
    cursor = matching_db.matches.find(
        {"state": "found", "need.tenant": {"$in": [t.id for t in stream.tenants]}},
        projection={"offer_id": 1, "need_id": 1})
    return {(doc["offer_id"], doc["need_id"]) async for doc in cursor}


def last_log_entry(matching_stack, event: str, *, since: int) -> dict:
    text = (matching_stack.log_dir / "matching-worker.log").read_bytes()[since:].decode(errors="replace")
    entries = [json.loads(line) for line in text.splitlines()
               if line.startswith("{") and f'"{event}"' in line]
    assert entries, f"no {event} in the worker's log"
    return entries[-1]


async def gauge(matching_stack, name: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(matching_stack.metrics_url("matching-worker"))).text
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith(name + " "))


async def test_a_killed_worker_restarts_from_its_snapshot_and_replays_only_the_tail(
        matching_stack, producer, matching_db, tmp_path):
    directory = tmp_path / "snapshots"
    with_snapshots = {"MATCHING_SNAPSHOT_STORE": "directory", "MATCHING_SNAPSHOT_DIR": str(directory),
                      "MATCHING_SNAPSHOT_INTERVAL_S": "0.5"}
    stream = build_stream(800, seed=9, close_share=0.1)
    half = len(stream.events) // 2
    before, after = stream.events[:half], stream.events[half:]
    open_ids = {e.subject for e in before} - {e.subject for e in before if e.type.endswith(".closed")}

    # A graceful stop: it leaves the group at once, so the next worker need not wait for it.
    matching_stack.kill("matching-worker", signal.SIGTERM)
    try:
        await asyncio.to_thread(matching_stack.start_service, "matching-worker", timeout_s=120,
                                extra_env=with_snapshots)
        await publish_all(producer, [tenant_event(t) for t in stream.tenants] + before)

        async def snapshot_holds_the_first_half():
            snapshot = await DirectorySnapshotStore(directory).latest()
            if snapshot is None:
                return False
            held = {row[0] for row in (await asyncio.to_thread(snapshots.decode, snapshot)).items}
            return open_ids <= held
        await eventually(snapshot_holds_the_first_half, timeout_s=60, interval_s=0.5,
                         message="a snapshot with every open item of the first half")

        matching_stack.kill("matching-worker")
        await publish_all(producer, after)
        log_start = (matching_stack.log_dir / "matching-worker.log").stat().st_size
        await asyncio.to_thread(matching_stack.start_service, "matching-worker", timeout_s=120,
                                extra_env={**with_snapshots, "MATCHING_SNAPSHOT_INTERVAL_S": "300"})
        restored = await gauge(matching_stack, "matching_startup_restored_items")
        replayed = await gauge(matching_stack, "matching_startup_replayed_events")
        assert restored >= len(open_ids)
        # The tail: what was published after the snapshot, not the first half again.
        assert len(after) <= replayed < len(after) + len(before)

        expected = await asyncio.to_thread(stream.oracle_pairs)
        assert len(expected) > 100

        async def equal():
            stored = await stored_pairs(matching_db, stream)
            wrong = len(expected ^ stored)
            return wrong == 0, -wrong, f"{len(expected)} expected, {wrong} differ"
        await until_complete(equal, stall_s=30, interval_s=0.5,
                             message="the stored match set equals the oracle's")
        # Nobody took a partition meanwhile: the take-over checked only the changed pairs.
        take_over = last_log_entry(matching_stack, "reconcile_finished", since=log_start)
        assert sorted(take_over["from_snapshot"]) == [str(p) for p in range(6)]
    finally:
        # The session needs a worker: a plain one if the test ended without one.
        child = matching_stack.children.get("matching-worker")
        if child is None or child.process.poll() is not None:
            if child is not None:
                matching_stack.kill("matching-worker")
            await asyncio.to_thread(matching_stack.start_service, "matching-worker", timeout_s=120)

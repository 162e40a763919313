"""The matcher's state survives a SIGKILL, a second instance joining and leaving, and a crash
between storing a batch and publishing it; after the SIGKILL nobody is notified twice.

Thousands of items stream straight into `items`; the worker is killed (or joined by another
instance that later leaves) in the middle. Afterwards the persisted match set must equal the
brute-force oracle's over the same items, and the `matches` topic must tell the same story:
its last word on every pair is the oracle's, and no pair is announced found twice in a row
without a withdrawal in between unless its score or explanation changed (an item read before
its tenant's weights is re-scored). A second copy of the SAME event (same id) is a redelivery
that consumers deduplicate, not a second announcement.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from deploy.local.engines import free_port
from tests.conftest import start_test_engines
from tests.integration.matching.conftest import publish_all, reading_match_log
from tests.integration.matching.streams import Stream, build_stream, tenant_event
from tests.support.waiting import eventually, until_complete

pytestmark = [pytest.mark.integration, pytest.mark.floods_topics]
REPO_ROOT = Path(__file__).resolve().parents[3]
# Long waits fail only when nothing moves for this long (see `until_complete`).
STALL_S = 120


@pytest.fixture(scope="module")
def matching_stack(tmp_path_factory, otlp_receiver):
    """A stack of their own for these tests: they stream thousands of items, and leave
    thousands of pairs, notifications and open items behind. On the session's stack the
    search service indexed every streamed item beside them, and whatever they left would weigh
    on the tests after them."""
    stack = start_test_engines(tmp_path_factory.mktemp("flood-stack"), otlp_receiver)
    # These tests are about the matcher; notifications only has to tell nobody twice. Without
    # coalescing windows each pair is one store write instead of three (lead sealed and
    # cleared), which on the local document store is two minutes less for this flood.
    # Coalescing's own crash guarantees: tests/integration/notifications/test_coalescing.py.
    stack.env_overrides["COALESCE_WINDOW_S"] = "0"
    try:
        stack.start_services(["profiles", "profiles-relay", "matching", "matching-worker",
                              "notifications"])
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
async def match_log(matching_stack):
    async with reading_match_log(matching_stack) as log:
        yield log


async def stored_pairs(matching_db, stream: Stream) -> set[tuple[str, str]]:
    tenants = [t.id for t in stream.tenants]
    cursor = matching_db.matches.find({"state": "found", "need.tenant": {"$in": tenants}},
                                      projection={"offer_id": 1, "need_id": 1})
    return {(doc["offer_id"], doc["need_id"]) async for doc in cursor}


async def wait_until_announced(match_log, stream: Stream, minimum: int) -> None:
    async def enough():
        announced = len(match_log.involving(stream.item_ids))
        return announced >= minimum, announced, f"{announced} of {minimum} match events"
    await until_complete(enough, stall_s=STALL_S, interval_s=0.2,
                         message=f"{minimum} match events")


async def wait_for_outcome(match_log, matching_db, stream: Stream,
                           expected: set[tuple[str, str]]) -> dict:
    """Until the topic tells the oracle's story; then the stored set must be the oracle's.

    Pair states are written before their events are published, so once the topic is
    complete the store is too (up to the commit of the last batch)."""
    story = await wait_for_topic(match_log, stream, expected)

    async def equal():
        stored = await stored_pairs(matching_db, stream)
        wrong = len(expected - stored) + len(stored - expected)
        return wrong == 0, -wrong, (f"{len(expected)} expected pairs, "
                                    f"{len(expected - stored)} missing, "
                                    f"{len(stored - expected)} unexpected")

    await until_complete(equal, stall_s=30, interval_s=2.0,
                         message="the persisted match set equals the oracle's")
    return story


def check_topic_story(match_log, stream: Stream, expected: set[tuple[str, str]]) -> dict:
    """Per pair: found/withdrawn alternate, and the last word matches the oracle."""
    history: dict[str, list[dict]] = {}
    for event in match_log.involving(stream.item_ids):
        history.setdefault(event["subject"], []).append(event)
    repeated_same_event = 0
    for pair, events in history.items():
        distinct = []
        for event in events:
            if distinct and distinct[-1]["id"] == event["id"]:
                repeated_same_event += 1  # the same event again: a redelivery
                continue
            distinct.append(event)
        types = [e["type"] for e in distinct]
        for before, after in zip(distinct, distinct[1:]):
            # Two announcements in a row must say something new: a withdrawal between two
            # founds, or (found -> found) another score or explanation.
            assert before["type"] != after["type"] or (
                before["type"] == "match.found" and _shown(before) != _shown(after)
            ), f"{pair}: " + "; ".join(
                f"{e['type']} {e['id'][:8]} at {e['occurred_at']} score {e['data']['score']}"
                for e in events)
        offer_id, need_id = pair.split(":")
        assert (types[-1] == "match.found") == ((offer_id, need_id) in expected), f"{pair}: {types}"
    announced = {tuple(pair.split(":")) for pair in history}
    assert expected <= announced
    return {"pairs": len(history), "repeated_same_event": repeated_same_event}


def _shown(event: dict) -> tuple:
    return event["data"]["score"], json.dumps(event["data"]["reasons"], sort_keys=True)


async def wait_for_topic(match_log, stream: Stream, expected: set[tuple[str, str]]) -> dict:
    async def told():
        events = len(match_log.involving(stream.item_ids))
        try:
            check_topic_story(match_log, stream, expected)
        except AssertionError as error:
            return False, events, f"{events} match events so far; {str(error)[:300]}"
        return True, events, ""
    try:
        await until_complete(told, stall_s=STALL_S, interval_s=1.0,
                             message="the matches topic tells the oracle's story")
    except AssertionError:
        pass  # the check below fails with the details
    return check_topic_story(match_log, stream, expected)


async def publish_tenants(producer, stream: Stream) -> None:
    await publish_all(producer, [tenant_event(t) for t in stream.tenants])


def inbox_entries_due(match_log, stream: Stream) -> dict[tuple[str, str], int]:
    """(recipient actor, pair) -> how many match notifications it should have: one for each
    time the pair was found anew (first, or after a withdrawal), whatever was repeated."""
    due: dict[tuple[str, str], int] = {}
    last_type: dict[str, str] = {}
    seen_ids: set[str] = set()
    for event in match_log.involving(stream.item_ids):
        if event["id"] in seen_ids:
            continue  # a redelivery of the same event
        seen_ids.add(event["id"])
        pair, before = event["subject"], last_type.get(event["subject"])
        last_type[pair] = event["type"]
        if event["type"] != "match.found" or before == "match.found":
            continue
        for actor_id in {event["data"]["offer"]["actor_id"], event["data"]["need"]["actor_id"]}:
            due[(actor_id, pair)] = due.get((actor_id, pair), 0) + 1
    return due


async def notifications_created(matching_stack) -> float:
    """The notifications service's count of match notifications it created (cheap to read,
    unlike a scan of its store)."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(matching_stack.metrics_url("notifications"))).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith('notifications_created_total{type="match.found"}'))


async def inbox_entries(matching_stack, stream: Stream) -> dict[tuple[str, str], int]:
    client = AsyncMongoClient(matching_stack.mongo_uri_for("notifications"), tz_aware=True)
    try:
        cursor = client["notifications"]["notifications"].find(
            {"tenant": {"$in": [t.id for t in stream.tenants]}, "type": "match.found"},
            projection={"actor_id": 1, "pair": 1})
        found: dict[tuple[str, str], int] = {}
        async for doc in cursor:
            found[(doc["actor_id"], doc["pair"])] = found.get((doc["actor_id"], doc["pair"]), 0) + 1
        return found
    finally:
        await client.close()


async def test_a_killed_worker_restarts_to_exactly_the_oracles_match_set(
        matching_stack, producer, match_log, matching_db):
    created_before = await notifications_created(matching_stack)
    stream = build_stream(3000, seed=5)  # 3,000 keeps the suite within its time (4,000 before)
    await publish_tenants(producer, stream)
    events = stream.events
    first, second = len(events) * 2 // 5, len(events) * 7 // 10

    await publish_all(producer, events[:first])
    # Kill it in the middle of its work: once part of the first share is announced.
    await wait_until_announced(match_log, stream, 400)  # of about 600 in the first share
    matching_stack.kill("matching-worker")
    await publish_all(producer, events[first:second])
    await asyncio.to_thread(matching_stack.start_service, "matching-worker", timeout_s=120)
    await publish_all(producer, events[second:])

    expected = await asyncio.to_thread(stream.oracle_pairs)
    assert len(expected) > 3000  # a realistic share of items found partners (3,911)
    story = await wait_for_outcome(match_log, matching_db, stream, expected)
    assert story["pairs"] >= len(expected)

    # Nobody is told twice: each recipient has one inbox entry per pair and time it was found.
    due = inbox_entries_due(match_log, stream)
    assert len(due) >= len(expected), "both sides of every found pair are due a notification"
    due_total = sum(due.values())

    async def inboxes_complete():
        # Progress by the service's counter; the store is read (a scan) only to confirm.
        created = await notifications_created(matching_stack) - created_before
        if created < due_total:
            return False, created, f"{created:.0f} of {due_total} notifications created"
        stored = sum((await inbox_entries(matching_stack, stream)).values())
        return stored >= due_total, created, f"{stored} of {due_total} stored"

    try:
        await until_complete(inboxes_complete, stall_s=STALL_S, interval_s=2.0,
                             message="every match notification stored")
    except AssertionError as error:
        print(error)  # the comparison below says what is missing
    stored = await inbox_entries(matching_stack, stream)
    twice = {key: count for key, count in stored.items() if count > due.get(key, 0)}
    assert not twice, f"{len(twice)} recipients told more than once, e.g. {list(twice.items())[:3]}"
    missing = {key: count for key, count in due.items() if stored.get(key, 0) < count}
    assert not missing, f"{len(missing)} of {len(due)} notifications missing, e.g. {list(missing)[:3]}"


async def test_a_second_worker_joins_mid_stream_and_leaves_without_losing_a_pair(
        matching_stack, producer, match_log, matching_db, tmp_path):
    stream = build_stream(3000, seed=6)
    await publish_tenants(producer, stream)
    events = stream.events
    first, second = len(events) // 3, len(events) * 2 // 3
    port, metrics_port = free_port(), free_port()
    log_path = tmp_path / "matching-worker-2.log"

    await publish_all(producer, events[:first])
    with log_path.open("ab") as log:
        other = subprocess.Popen(
            [sys.executable, "-m", "services.matching.worker"],
            env={**os.environ, **matching_stack.service_env("matching-worker"), "PORT": str(port),
                 "METRICS_PORT": str(metrics_port)},
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            async def ready():
                assert other.poll() is None, log_path.read_text()[-3000:]
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await eventually(ready, timeout_s=120, interval_s=0.5, message="second worker ready")
            await publish_all(producer, events[first:second])

            async def announcing():
                metrics = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
                return _gauge(metrics, "matching_owned_partitions") > 0 and \
                    _counter_total(metrics, "matching_transitions_total") > 0

            # It took over some partitions and announced matches for them.
            await eventually(announcing, timeout_s=60, interval_s=0.5,
                             message="the second worker announces for its partitions")
        other.send_signal(signal.SIGTERM)  # leaves the group mid-stream
        await publish_all(producer, events[second:])
        await asyncio.to_thread(other.wait, 30)
    finally:
        if other.poll() is None:
            os.killpg(other.pid, signal.SIGKILL)
            other.wait()

    expected = await asyncio.to_thread(stream.oracle_pairs)
    await wait_for_outcome(match_log, matching_db, stream, expected)


def _gauge(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def _counter_total(metrics: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in metrics.splitlines()
               if line.startswith(name + "{"))


async def test_states_stored_but_not_yet_published_are_published_after_a_crash(
        matching_stack, producer, match_log, matching_db):
    """The worst moment: pair states written, their events not all acknowledged, SIGKILL."""
    stream = build_stream(1200, seed=7)
    await publish_tenants(producer, stream)
    events = stream.events
    await publish_all(producer, events[:200])
    await wait_until_announced(match_log, stream, 5)  # the worker is live and announcing
    await publish_all(producer, events[200:])
    worker = matching_stack.children["matching-worker"].process

    async def crashed_mid_batch() -> bool:
        if not await _unfinished_batch(matching_db):
            return False
        os.killpg(worker.pid, signal.SIGSTOP)  # frozen: its state cannot move on
        if await _unfinished_batch(matching_db):
            matching_stack.kill("matching-worker")
            return True
        os.killpg(worker.pid, signal.SIGCONT)  # the batch completed just before: next one
        return False

    await eventually(crashed_mid_batch, timeout_s=60, interval_s=0.02,
                     message="a SIGKILL between storing a batch and its acknowledgement")
    await asyncio.to_thread(matching_stack.start_service, "matching-worker", timeout_s=120)

    expected = await asyncio.to_thread(stream.oracle_pairs)
    await wait_for_outcome(match_log, matching_db, stream, expected)
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(matching_stack.metrics_url("matching-worker"))).text
    assert _gauge(metrics, "matching_republished_events_total") > 0


async def _unfinished_batch(matching_db) -> bool:
    """Whether the busiest worker instance (the last to commit) has stored pairs of a batch
    it has not committed yet."""
    newest = await matching_db.instances.find_one(sort=[("updated_at", -1)])
    if newest is None:
        return False
    for partition in range(6):  # the partition_batch index answers each of these
        if await matching_db.matches.find_one(
                {"need_partition": partition, "batch.instance": newest["_id"],
                 "batch.n": {"$gt": newest["committed"]}}, projection={"_id": 1}):
            return True
    return False

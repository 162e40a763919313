"""The benchmark's peers of the matching engine compute the engine's top-K lists.

Both peers replay a stream of publish / update / close events next to the engine; after
every event the peer's Diff (pairs found / withdrawn, with explanations) and the item's
top-K must be the engine's, and every ~25 events (and at the end) every open item's top-K. The PostGIS peer starts a private PostgreSQL cluster: when that
is impossible the test FAILS (no skip) -- the benchmark needs it.
"""
from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest

from bench.engine_bench import EPOCH, ItemFactory, make_events
from bench.peers import TopLists, engine_buffers
from bench.peers.numpy_scan import NumpyScanPeer
from bench.peers.postgis import PgCluster, PgClusterError, PostgisPeer, schedule_ranges
from services.matching.engine import BruteForceMatcher, MatchingEngine, rules

N_ITEMS = 1500
N_EVENTS = 300
K = 10


@pytest.fixture(scope="module")
def cluster():
    try:
        c = PgCluster().start()
    except PgClusterError as e:  # no skip: the benchmark's PostGIS peer needs this
        pytest.fail(f"cannot start a private PostgreSQL + PostGIS cluster for the PostGIS peer: {e}")
    yield c
    c.stop()


@pytest.fixture(scope="module")
def world():
    factory = ItemFactory(11)
    items = [factory.item() for _ in range(N_ITEMS)]
    events = make_events(factory, [it.id for it in items], {it.id: it for it in items}, N_EVENTS)
    return factory, items, events


def _make(name, tenants, cluster, k=K):
    if name == "numpy":
        return NumpyScanPeer(k, tenants)
    return PostgisPeer(k, tenants, cluster=cluster)


def _replay_and_compare(peer, engine, events):
    for i, (kind, it) in enumerate(events):
        if kind == "close":
            expected = engine.remove(it.id, it.version)
            got = peer.remove(it.id)
        else:
            expected = engine.upsert(it)
            got = peer.upsert(it)
            assert peer.top_k(it.id) == engine.top_k(it.id), f"event {i}: top-K of {it.id}"
        # the same output as the engine: the Diff of the match set, with its explanations
        assert got.found == expected.found, f"event {i} ({kind} {it.id}): found pairs differ"
        assert got.withdrawn == expected.withdrawn, f"event {i} ({kind} {it.id}): withdrawn pairs differ"
        if i % 25 == 24 or i == len(events) - 1:
            ids = [p.id for p in engine.prepared()]
            assert len(peer) == len(ids)
            wrong = [x for x in ids if peer.top_k(x) != engine.top_k(x)]
            assert not wrong, f"after event {i}: {len(wrong)} top-K lists differ, e.g. {wrong[0]}"


@pytest.mark.parametrize("name", ["numpy", "postgis"])
def test_peer_from_scratch_equals_engine(name, world, cluster):
    factory, items, events = world
    engine = MatchingEngine(k=K, tenants=factory.tenants)
    engine.bulk_load(items)
    peer = _make(name, factory.tenants, cluster)
    try:
        peer.load(items)  # every buffer computed by the peer's own queries
        wrong = [it.id for it in items if peer.top_k(it.id) != engine.top_k(it.id)]
        assert not wrong, f"{len(wrong)} initial top-K lists differ"
        _replay_and_compare(peer, engine, events)
        assert peer.counters["queries"] > N_ITEMS
    finally:
        peer.close()


@pytest.mark.parametrize("name", ["numpy", "postgis"])
def test_peer_seeded_with_engine_buffers_equals_engine(name, world, cluster):
    """The benchmark's path: the peer starts from the engine's buffers after its bulk load."""
    factory, items, events = world
    engine = MatchingEngine(k=K, tenants=factory.tenants)
    engine.bulk_load(items)
    peer = _make(name, factory.tenants, cluster)
    try:
        peer.load(items, engine_buffers(engine, items))
        _replay_and_compare(peer, engine, events)
    finally:
        peer.close()


def _tricky_schedules(seed: int, n: int):
    """Items close together (every pair within reach) with minute-level schedules: adjacent
    and barely overlapping windows, dates against weekly windows, week-long dates."""
    factory = ItemFactory(seed)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        it = factory.item()
        r = rng.random()
        if r < 0.35:
            windows = []
            for _ in range(rng.randint(1, 3)):
                start = rng.randrange(0, 1440 - 15)
                windows.append((rng.randrange(7), start, min(1440, start + rng.choice((1, 15, 30, 61, 90, 600)))))
            dates, weekly = (), tuple(windows)
        elif r < 0.8:
            dates = []
            for _ in range(rng.randint(1, 2)):
                start = EPOCH + timedelta(days=rng.randrange(20), minutes=rng.randrange(1440))
                dates.append((start, start + timedelta(minutes=rng.choice((1, 29, 60, 200, 1500, 7 * 1440 + 5)))))
            dates, weekly = tuple(dates), ()
        else:
            dates, weekly = (), ()
        out.append(dataclasses.replace(
            it, lat=50.93 + rng.uniform(-0.05, 0.05), lon=6.95 + rng.uniform(-0.05, 0.05), radius_km=40.0,
            remote=rng.random() < 0.05, visibility="state", requirements=frozenset(),
            categories=frozenset({"social"}) | it.categories, dates=dates, weekly=weekly))
    return factory, out


@pytest.mark.parametrize("name", ["numpy", "postgis"])
def test_minute_exact_schedules_match_brute_force(name, cluster):
    factory, items = _tricky_schedules(5, 250)
    k = 60
    brute = BruteForceMatcher(k=k, tenants=factory.tenants)
    brute.load(items)
    peer = _make(name, factory.tenants, cluster, k=k)
    try:
        peer.load(items)
        for it in items:
            expected = brute.top_k(it.id)
            assert peer.top_k(it.id) == expected, it.id
    finally:
        peer.close()


def test_schedule_ranges_wrap_and_week():
    factory = ItemFactory(1)
    base = factory.item()
    sunday_night = EPOCH + timedelta(days=6, hours=20)  # EPOCH is a Monday; 22:00 local (CEST)
    p = rules.prepare(dataclasses.replace(base, dates=((sunday_night, sunday_night + timedelta(hours=4)),), weekly=()))
    dates, wk, dm = schedule_ranges(p)
    assert wk == "{}"
    assert dm == "{[9960,10080),[0,120)}"  # Sunday 22:00-24:00 and Monday 00:00-02:00 local
    p = rules.prepare(dataclasses.replace(base, dates=((EPOCH, EPOCH + timedelta(days=8)),), weekly=((0, 60, 90),)))
    dates, wk, dm = schedule_ranges(p)
    assert wk == "{[60,90)}" and dm == "{[0,10080)}"


def test_top_lists_keep_a_ranked_prefix():
    lists = TopLists(k=2, L=3)
    y, a, b, c, d = (lists.new_uid(x) for x in ("y", "a", "b", "c", "d"))
    lists.set_buffer(y, [(0.9, a), (0.5, b)], True)  # exhaustive: anything may enter
    assert lists.offer(y, 0.5, c)  # ties: "b" < "c"
    assert [u for u, _ in lists.top_k(y)] == ["a", "b"] and not lists.bex[y]  # full: no longer exhaustive
    assert not lists.offer(y, 0.4, d)  # below the L-th
    assert lists.offer(y, 0.95, d) and lists.top_k(y)[0] == ("d", 0.95)
    assert y not in lists.held_by[c]  # pushed out of the buffer
    lists.remove_from(y, d)
    assert lists.top_k(y) == [("a", 0.9), ("b", 0.5)] and lists.threshold(y) == (0.5, "b")

"""MatchingEngine: the reverse index (item -> buffers holding it) stays exact, tombstones
are pruned after their retention, and a tenant change re-scores only what it affects."""
from __future__ import annotations

import random
from datetime import timedelta

from services.matching.engine import BruteForceMatcher, MatchingEngine, TenantInfo, Weights
from services.matching.engine.model import Item, VersionLedger, utc

from .factories import need, offer
from .test_engine import random_items

TENANTS = {"a": TenantInfo("a", frozenset({"b"})), "b": TenantInfo("b", frozenset({"a"})), "c": TenantInfo("c")}
T0 = utc(2026, 1, 5, 12)


def rev_of_buffers(engine: MatchingEngine) -> dict[int, list[int]]:
    """The reverse index recomputed from the buffers."""
    out: dict[int, list[int]] = {}
    for y in engine._slot_of.values():
        for z in engine._bslot[y, : engine._blen[y]].tolist():
            out.setdefault(z, []).append(y)
    return {z: sorted(ys) for z, ys in out.items()}


def assert_rev_exact(engine: MatchingEngine) -> None:
    stored = {z: sorted(a.tolist()) for z, a in enumerate(engine._rev) if a is not None and len(a)}
    assert stored == rev_of_buffers(engine)
    live = set(engine._slot_of.values())
    assert set(stored) <= live


def copy_item(it: Item, **changes) -> Item:
    return Item(**{**{f: getattr(it, f) for f in it.__slots__}, **changes})


def assert_same_matches(engine: MatchingEngine, oracle: BruteForceMatcher, items) -> None:
    for it in items:
        assert engine.matches_for(it.id) == oracle.matches_for(it.id)


# ------------------------------------------------------------------ reverse index


def test_reverse_index_stays_exact_through_bulk_load_events_and_refills():
    items = random_items(160, seed=21)
    engine = MatchingEngine(k=3, tenants=TENANTS, buffer_extra=1)  # small buffers: many refills
    oracle = BruteForceMatcher(k=3, tenants=TENANTS)
    engine.bulk_load(items)
    oracle.load(items)
    assert_rev_exact(engine)
    rng = random.Random(5)
    live = {it.id: it for it in items}
    extra = random_items(60, seed=22)
    for i, it in enumerate(extra):
        it = copy_item(it, id=f"y{i:03d}")
        assert engine.upsert(it) == oracle.upsert(it)
        live[it.id] = it
        victim = live.pop(rng.choice(sorted(live)))
        assert engine.remove(victim.id) == oracle.remove(victim.id)
        moved_id = rng.choice(sorted(live))
        moved = copy_item(live[moved_id], version=live[moved_id].version + 1,
                          lat=live[moved_id].lat + rng.uniform(-0.05, 0.05))
        assert engine.upsert(moved) == oracle.upsert(moved)
        live[moved_id] = moved
        assert_rev_exact(engine)
    assert engine.counters["refills"] > 0
    assert_same_matches(engine, oracle, live.values())


def test_reverse_index_after_a_parallel_bulk_load():
    items = random_items(400, seed=23)
    engine = MatchingEngine(k=3, tenants=TENANTS, buffer_extra=2)
    engine._parallel_min = 0  # the fork path, also for a small load
    engine.bulk_load(items, workers=2)
    assert_rev_exact(engine)


# ------------------------------------------------------------------ tombstones


def test_ledger_tombstone_protects_within_the_retention_and_is_gone_after():
    ledger = VersionLedger(retention_s=3600.0, max_tombstones=None)
    t = T0.timestamp()
    ledger.observe(t)
    assert ledger.admits_remove("x", 3, 3)
    ledger.observe(t + 3599)
    assert not ledger.admits_upsert("x", 2, None)  # late redelivery of an older version
    assert ledger.tombstone("x") == 3
    ledger.observe(t + 3601)
    assert ledger.tombstone("x") is None and len(ledger) == 0
    assert ledger.admits_upsert("x", 2, None)  # the accepted trade-off after the retention


def test_engine_tombstone_retention_in_event_time():
    engine = MatchingEngine(tombstone_retention=timedelta(hours=2))
    o = offer("o1", version=2)
    engine.upsert(o, at=T0)
    engine.upsert(need("n1", km_north=1), at=T0)
    assert not engine.remove("o1", 2, at=T0 + timedelta(minutes=1)).empty
    # a redelivered older version within the retention stays out
    assert engine.upsert(offer("o1", version=1), at=T0 + timedelta(hours=1)).empty
    assert engine.upsert(offer("o1", version=2), at=T0 + timedelta(hours=1, minutes=59)).empty
    assert "o1" not in engine
    # another event moves event time past the retention: the tombstone is pruned
    engine.upsert(need("n2", km_north=2), at=T0 + timedelta(hours=2, minutes=2))
    assert len(engine._ledger) == 0
    # a newer version was always welcome
    assert not engine.upsert(offer("o1", version=3), at=T0 + timedelta(hours=3)).empty


def test_tombstones_recorded_before_any_event_time_get_the_first_one():
    ledger = VersionLedger(retention_s=60.0, max_tombstones=None)
    ledger.admits_remove("x", 1, 1)
    ledger.observe(1000.0)
    assert ledger.tombstone("x") == 1
    ledger.observe(1059.0)
    assert ledger.tombstone("x") == 1
    ledger.observe(1061.0)
    assert ledger.tombstone("x") is None


def test_tombstones_stay_bounded_under_a_long_stream_of_publish_and_close():
    # event-time retention: one event per second, 10 minutes of retention
    engine = MatchingEngine(k=2, tombstone_retention=600.0, max_tombstones=None)
    t = T0.timestamp()
    sizes = []
    for i in range(5000):
        item = (offer if i % 2 else need)(f"s{i}", km_north=(i % 7) * 0.5)
        engine.upsert(item, at=t + 2 * i)
        engine.remove(item.id, at=t + 2 * i + 1)
        sizes.append(len(engine._ledger))
    assert max(sizes) <= 301  # 600 s / 2 s per close (+ the one just recorded)
    assert len(engine) == 0
    # count bound: no event times at all
    engine = MatchingEngine(k=2, max_tombstones=100)
    for i in range(3000):
        item = offer(f"c{i}")
        engine.upsert(item)
        engine.remove(item.id)
        assert len(engine._ledger) <= 100
    # the newest are kept, the oldest dropped
    assert engine._ledger.tombstone("c2999") == 1 and engine._ledger.tombstone("c0") is None
    # a redelivered upsert refreshes nothing: still protected while remembered
    assert engine.upsert(offer("c2999")).empty


# ------------------------------------------------------------------ tenant changes


MANY_TENANTS = {
    "a": TenantInfo("a", frozenset({"b"})),
    "b": TenantInfo("b", frozenset({"a"})),
    "c": TenantInfo("c"),
    "d": TenantInfo("d", frozenset({"c"})),
}


def tenant_items(n: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    out = []
    for it in random_items(n, seed):
        out.append(copy_item(it, tenant=rng.choice(sorted(MANY_TENANTS))))
    return out


def live_ids(engine: MatchingEngine, tenant: str, *, kind: str | None = None, vis: str | None = None):
    return {p.id for p in engine.prepared()
            if p.tenant == tenant and (kind is None or p.item.kind == kind)
            and (vis is None or p.item.visibility == vis)}


CHANGES = [
    TenantInfo("a", frozenset({"b"}), Weights(distance=6.0)),  # weights only
    TenantInfo("a", frozenset({"b", "c"})),  # add a neighbour
    TenantInfo("b", frozenset()),  # drop a neighbour
    TenantInfo("c", frozenset({"a", "d"}), Weights(categories=1.0, skills=0.0, schedule=3.0)),  # both
    TenantInfo("e", frozenset({"a"})),  # a new tenant without items
    TenantInfo("d", frozenset({"c"})),  # no change at all
]


def test_tenant_changes_agree_with_the_oracle():
    items = tenant_items(220, seed=31)
    engine = MatchingEngine(k=3, tenants=MANY_TENANTS, buffer_extra=2)
    oracle = BruteForceMatcher(k=3, tenants=MANY_TENANTS)
    engine.bulk_load(items)
    oracle.load(items)
    for info in CHANGES:
        assert engine.upsert_tenant(info) == oracle.upsert_tenant(info)
        assert_same_matches(engine, oracle, items)
        assert_rev_exact(engine)
    # and events after the changes still agree
    rng = random.Random(8)
    for i, it in enumerate(tenant_items(30, seed=32)):
        it = copy_item(it, id=f"z{i:03d}")
        assert engine.upsert(it) == oracle.upsert(it)
        victim = rng.choice(items)
        assert engine.remove(victim.id) == oracle.remove(victim.id)
    assert_same_matches(engine, oracle, items)


def test_a_tenant_change_rescores_only_the_items_it_affects():
    items = tenant_items(220, seed=33)
    engine = MatchingEngine(k=3, tenants=MANY_TENANTS, buffer_extra=2)
    engine.bulk_load(items)
    n_live = len(engine)

    def rescored(info: TenantInfo) -> int:
        before = engine.counters["tenant_rescored"]
        engine.upsert_tenant(info)
        return engine.counters["tenant_rescored"] - before

    # weights: the tenant's needs (their scores use the need's tenant's weights)
    expected = live_ids(engine, "a", kind="need")
    assert 0 < rescored(TenantInfo("a", frozenset({"b"}), Weights(distance=6.0))) == len(expected) < n_live
    # neighbours: a's region-visible items (every pair whose validity changes has one; the
    # other side's lists are corrected by dropping and offering them, not re-scored)
    expected = live_ids(engine, "a", vis="region")
    got = rescored(TenantInfo("a", frozenset({"b", "c"}), Weights(distance=6.0)))
    assert 0 < got == len(expected) < n_live
    # no change, and a new tenant without items: nothing
    assert rescored(TenantInfo("a", frozenset({"b", "c"}), Weights(distance=6.0))) == 0
    assert rescored(TenantInfo("zz", frozenset({"a"}))) == 0

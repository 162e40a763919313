"""An engine restored from a snapshot (through the bytes the worker writes) behaves exactly like
the engine it was taken from: the same matches for every item, and the same diffs for every
event that follows. And a snapshot that does not fit the running worker is refused."""
from __future__ import annotations

import json
import random
from datetime import timedelta

from services.matching.engine import MatchingEngine, TenantInfo, Weights
from services.matching.engine.model import Item, utc
from services.matching.worker import snapshot as snapshots

from .test_engine import random_items
from .test_engine_ledger_and_tenants import assert_rev_exact, copy_item

TENANTS = {"a": TenantInfo("a", frozenset({"b"})), "b": TenantInfo("b", frozenset({"a"})),
           "c": TenantInfo("c")}
T0 = utc(2026, 3, 2, 8)


def through_bytes(engine: MatchingEngine) -> MatchingEngine:
    """Export, encode, meta through JSON (as every store keeps it), decode, restore."""
    state = snapshots.WorkerState(engine=engine.export_state(), items=[], tenant_versions={},
                                  offsets={}, partitions={"items": 6}, owner_partitions=6,
                                  instance="test", taken_at=T0)
    written = snapshots.encode(state)
    stored = type(written)(meta=json.loads(json.dumps(written.meta)), sections=written.sections)
    return MatchingEngine.from_state(snapshots.decode(stored).engine)


def random_events(rng: random.Random, items: list[Item], count: int) -> list[tuple]:
    """Publishes, updates (other place, radius, categories), closes, redeliveries of old
    versions and tenant changes, each with an event time."""
    known = {it.id: it for it in items}
    events = []
    for n in range(count):
        at = T0 + timedelta(minutes=n)
        roll = rng.random()
        if roll < 0.3:
            fresh = random_items(1, seed=rng.randrange(10**6))[0]
            fresh = copy_item(fresh, id=f"new{n:04d}")
            known[fresh.id] = fresh
            events.append(("upsert", fresh, at))
        elif roll < 0.6 and known:
            old = rng.choice(sorted(known.values(), key=lambda it: it.id))
            moved = copy_item(old, version=old.version + 1, lat=old.lat + rng.uniform(-0.05, 0.05),
                              radius_km=rng.choice([5.0, 15.0, 30.0]),
                              categories=frozenset(rng.sample(["sport", "culture", "seniors"], 1)))
            known[old.id] = moved
            events.append(("upsert", moved, at))
        elif roll < 0.85 and known:
            gone = known.pop(rng.choice(sorted(known)))
            events.append(("remove", gone.id, gone.version + 1, at))
        elif roll < 0.92:
            events.append(("upsert", copy_item(rng.choice(items), version=1), at))  # redelivery
        else:
            tenant = rng.choice(sorted(TENANTS))
            events.append(("tenant", TenantInfo(tenant, frozenset(rng.sample(sorted(TENANTS), 1)),
                                                Weights(distance=rng.choice([1.0, 2.0, 5.0])))))
    return events


def apply(engine: MatchingEngine, event: tuple):
    if event[0] == "upsert":
        return engine.upsert(event[1], at=event[2])
    if event[0] == "remove":
        return engine.remove(event[1], event[2], at=event[3])
    return engine.upsert_tenant(event[1])


def built_by_events(seed: int) -> tuple[MatchingEngine, list[Item], random.Random]:
    """An engine with history: bulk-loaded, then changed, with free slots, tombstones (a few
    pruned by the count bound) and changed tenants."""
    rng = random.Random(seed)
    items = random_items(220, seed=seed)
    engine = MatchingEngine(k=3, tenants=TENANTS, buffer_extra=2, max_tombstones=25)
    engine.bulk_load(items[:150])
    for event in random_events(rng, items[:150], 120):
        apply(engine, event)
    for it in items[150:]:
        engine.upsert(it, at=T0)
    return engine, items, rng


def test_a_restored_engine_answers_and_changes_exactly_like_the_original():
    original, items, rng = built_by_events(seed=31)
    restored = through_bytes(original)
    ids = sorted({it.id for it in items} | set(original._slot_of))
    assert len(restored) == len(original) > 150
    for item_id in ids:
        assert restored.matches_for(item_id) == original.matches_for(item_id)
        assert restored.top_k(item_id) == original.top_k(item_id)
        assert restored.version_of(item_id) == original.version_of(item_id)
    assert_rev_exact(restored)
    for event in random_events(rng, items, 300):
        assert apply(restored, event) == apply(original, event), event
    for item_id in sorted(set(ids) | set(original._slot_of)):
        assert restored.matches_for(item_id) == original.matches_for(item_id)
    assert restored.counters == original.counters


def test_the_state_is_detached_so_the_engine_can_go_on_while_it_is_written():
    original, items, rng = built_by_events(seed=32)
    state = original.export_state()
    events = random_events(rng, items, 120)
    diffs = [apply(original, event) for event in events]  # the original moves on
    later = MatchingEngine.from_state(state)
    assert [apply(later, event) for event in events] == diffs


def test_a_snapshot_that_does_not_fit_the_worker_is_refused_with_the_reason():
    engine = MatchingEngine(k=3, buffer_extra=2)
    meta = through_meta(engine)
    fits = dict(engine_parameters=engine.parameters(), partitions={"items": 6}, owner_partitions=6)
    assert snapshots.unusable(meta, **fits) is None
    assert "engine parameters" in snapshots.unusable(
        meta, **{**fits, "engine_parameters": MatchingEngine(k=10).parameters()})
    assert "partition counts" in snapshots.unusable(meta, **{**fits, "partitions": {"items": 12}})
    assert "partition counts" in snapshots.unusable(meta, **{**fits, "owner_partitions": 3})
    assert "format" in snapshots.unusable({**meta, "format": 0}, **fits)
    assert "other matching code" in snapshots.unusable({**meta, "code": "0" * 16}, **fits)


def through_meta(engine: MatchingEngine) -> dict:
    state = snapshots.WorkerState(engine=engine.export_state(), items=[], tenant_versions={},
                                  offsets={("items", 0): 5}, partitions={"items": 6},
                                  owner_partitions=6, instance="test", taken_at=T0)
    return json.loads(json.dumps(snapshots.encode(state).meta))

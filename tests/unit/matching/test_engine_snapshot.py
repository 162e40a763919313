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
    items = varied(random_items(220, seed=seed), rng)
    engine = MatchingEngine(k=3, tenants=TENANTS, buffer_extra=2, max_tombstones=25)
    engine.bulk_load(items[:150])
    for event in random_events(rng, items[:150], 120):
        apply(engine, event)
    for it in items[150:]:
        engine.upsert(it, at=T0)
    return engine, items, rng


def varied(items: list[Item], rng: random.Random) -> list[Item]:
    """Items with what `random_items` leaves out: schedules, languages, requirements,
    accessibility, no capacity left."""
    out = []
    for it in items:
        roll = rng.random()
        if roll < 0.2:
            start = T0 + timedelta(hours=rng.randrange(0, 200))
            it = copy_item(it, dates=((start, start + timedelta(hours=rng.choice([2, 30]))),))
        elif roll < 0.4:
            it = copy_item(it, weekly=((rng.randrange(7), 600, 720), (rng.randrange(7), 900, 1000)))
        elif roll < 0.5:
            it = copy_item(it, languages=frozenset(rng.sample(["de", "en", "tr"], 2)),
                           requirements=frozenset({"first_aid"}), accessible=True)
        elif roll < 0.55:
            it = copy_item(it, capacity_left=0)
        out.append(it)
    return out


def assert_same_state(restored: MatchingEngine, original: MatchingEngine) -> None:
    """Every prepared item (each slot's value, the Item) and every bucket row alike."""
    assert len(restored._prep) == len(original._prep)
    for mine, theirs in zip(restored._prep, original._prep):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine.item == theirs.item
            assert {name: getattr(mine, name) for name in mine.__slots__} == {
                name: getattr(theirs, name) for name in theirs.__slots__}
            assert mine.cats is mine.item.categories  # shared, as `prepare` shares them
    assert restored._slot_of == original._slot_of
    assert list(restored._slot_of) == list(original._slot_of)
    for name in ("_cb", "_vb"):
        mine, theirs = getattr(restored, name), getattr(original, name)
        assert list(mine) == list(theirs)
        for key, bucket in theirs.items():
            assert mine[key].view().tobytes() == bucket.view().tobytes(), key


def test_a_restored_engine_answers_and_changes_exactly_like_the_original():
    original, items, rng = built_by_events(seed=31)
    restored = through_bytes(original)
    assert_same_state(restored, original)
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
    # a snapshot of the previous format (pickled objects, uncompressed) is not read
    assert snapshots.unusable({**meta, "format": 1}, **fits) == "format 1, this worker reads 2"
    assert "other matching code" in snapshots.unusable({**meta, "code": "0" * 16}, **fits)


def through_meta(engine: MatchingEngine) -> dict:
    state = snapshots.WorkerState(engine=engine.export_state(), items=[], tenant_versions={},
                                  offsets={("items", 0): 5}, partitions={"items": 6},
                                  owner_partitions=6, instance="test", taken_at=T0)
    return json.loads(json.dumps(snapshots.encode(state).meta))


def test_the_worker_state_comes_back_whole_and_compressed():
    """Open items, tenant versions, offsets and what the instance announced for survive the
    bytes; the sections are compressed."""
    engine, _, _ = built_by_events(seed=33)
    rows = [(f"item-{n}", f"actor-{n % 7}", "a", f"Titel {n} – Garten", ("offer", "need")[n % 2],
             n % 6, T0 + timedelta(seconds=n)) for n in range(120)]
    held = {f"{m.offer_id}:{m.need_id}": f"{n:020x}"
            for n, m in enumerate(m for item_id in sorted(engine._slot_of)
                                  for m in engine.matches_for(item_id))}
    # pairs of items the engine holds, and keys it does not know (kept as they are)
    stored = {1: {**held, "gone:n1": "0" * 20, "o:with:colons": "1" * 20}, 4: {}}
    assert len(held) > 100
    announced = snapshots.Announced(instance="w1", batch=17, takes={1: "t1", 4: "t4"},
                                    stored=stored)
    state = snapshots.WorkerState(engine=engine.export_state(), items=rows,
                                  tenant_versions={"a": 3, "b": 1}, offsets={("items", 2): 40},
                                  partitions={"items": 6}, owner_partitions=6, instance="w1",
                                  taken_at=T0, announced=announced)
    written = snapshots.encode(state)
    assert written.size < written.meta["raw_bytes"] / 2
    decoded = snapshots.decode(type(written)(meta=json.loads(json.dumps(written.meta)),
                                             sections=written.sections))
    assert decoded.items == rows
    assert decoded.tenant_versions == {"a": 3, "b": 1}
    assert decoded.offsets == {("items", 2): 40}
    assert decoded.announced == announced
    assert decoded.taken_at == T0 and decoded.instance == "w1"

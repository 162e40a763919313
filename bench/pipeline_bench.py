#!/usr/bin/env python3
"""Pipeline benchmark: offers and needs at a sustained rate until their match notification.

    python bench/pipeline_bench.py --rate 100 --seconds 30 --out bench/results/pipeline.json
    python bench/pipeline_bench.py --rate 20 --seconds 10       # a quick run

Starts its own local stack on free ports (broker, document store, search engine, Redis, mail
sink; then profiles, its outbox relay, the matching worker and API, and notifications),
creates eight NRW municipalities with neighbours and a few actors in each, and posts items to
`POST /offers` and `POST /needs` on a fixed schedule of `--rate` items per second for
`--seconds` seconds (at most `--concurrency` requests in flight; when the stack cannot keep
up, the achieved rate is reported). Items are spread a few kilometres around the town
centres with one or two of the fields of engagement, which gives a few suggestions per item.

It measures, per match, the time from the 201 of the POST that completed the pair (the later
of its offer and need: only then can the match exist) to the first notification about the
pair stored by the notifications service (its `created_at` in the "notifications" database:
the path profiles -> MongoDB + outbox -> relay -> Kafka `items` -> matching worker -> Kafka
`matches` -> notifications consumer -> MongoDB), as p50/p95/p99, and the loss: items the matcher
announced a match for (found in the "matching" database) but without any notification once the
matcher has applied every item and the notifications consumer has got through every match event.
When the drain timeout ends first, the consumer's backlog is reported instead of a loss.
Matches completed in the first `--warmup` seconds are left out of the latency figures.
The worker's own `match_latency_seconds` (item event -> match event acknowledged) is reported
from its /metrics.

The local engines are functional stand-ins (STACK.md): the pure-Python document store caps
every service's write rate, so these numbers describe this stack on this machine, not a
production cluster.
"""
from __future__ import annotations

import argparse
import asyncio
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
from platform_common.vocabulary import CATEGORIES  # noqa: E402
from services.notifications.settings import NotificationsSettings  # noqa: E402
from stack_run import CpuMeter, distribution, run_on_local_stack  # noqa: E402

SEED = 20260501
WINDOW_S = 10.0   # the latency is also reported per stretch of this many seconds of the run
SERVICES = ("profiles", "profiles-relay", "matching", "matching-worker", "notifications")
OPERATOR = Identity(sub="bench-operator", tenant="land", roles=frozenset({"operator"}))

# The stack's gateway key signs the bench users' identities (set by benchmark()); each identity
# is signed once, for longer than a run lasts.
GATEWAY_KEYS: ServiceKeys | None = None


@functools.cache
def signed(identity: Identity) -> dict[str, str]:
    assert GATEWAY_KEYS is not None, "benchmark() sets the stack's keys first"
    return GATEWAY_KEYS.identity_headers(identity, audience="profiles", ttl_s=6 * 3600)
TOWNS = {  # id: (name, lat, lon)
    "koeln": ("Köln", 50.9375, 6.9603), "bonn": ("Bonn", 50.7374, 7.0982),
    "duesseldorf": ("Düsseldorf", 51.2277, 6.7735), "essen": ("Essen", 51.4556, 7.0116),
    "dortmund": ("Dortmund", 51.5136, 7.4653), "muenster": ("Münster", 51.9607, 7.6261),
    "bielefeld": ("Bielefeld", 52.0302, 8.5325), "aachen": ("Aachen", 50.7753, 6.0839),
}
NEIGHBOURS = {"bonn": ["koeln"], "duesseldorf": ["koeln"], "essen": ["duesseldorf"],
              "dortmund": ["essen"]}
ACTOR_TYPES = ("association", "initiative", "person", "education", "company")
FIELDS = tuple(sorted(CATEGORIES))
TITLES = ("Einkaufshilfe", "Lesepatenschaft", "Sprachcafé", "Fahrdienst zum Arzt",
          "Gartenpflege", "Besuchsdienst", "Hausaufgabenhilfe", "Müllsammelaktion")


@dataclass
class Run:
    rate: float
    seconds: float
    warmup: float
    accepted: int = 0
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    post_seconds: list[float] = field(default_factory=list)
    # item id -> (wall-clock time of its 201, seconds since the start when it was sent)
    accepted_at: dict[str, tuple[float, float]] = field(default_factory=dict)
    notified_after: list[float] = field(default_factory=list)   # per pair
    # per pair: (seconds since the start when the POST that completed it was sent, latency)
    notified_when: list[tuple[float, float]] = field(default_factory=list)
    notified: set[str] = field(default_factory=set)             # items
    notified_pairs: set[tuple[str, str]] = field(default_factory=set)
    notified_total: int = 0
    started: float = 0.0
    publish_seconds: float = 0.0


@dataclass
class Town:
    id: str
    lat: float
    lon: float
    member: Identity
    actors: list[str]


async def create_towns(profiles: httpx.AsyncClient, run_id: str, actors_per_town: int) -> list[Town]:
    towns = []
    for key, (name, lat, lon) in TOWNS.items():
        tenant = f"{run_id}-{key}"
        body = {"id": tenant, "name": name, "center": {"lat": lat, "lon": lon},
                "neighbours": [f"{run_id}-{n}" for n in NEIGHBOURS.get(key, [])]}
        response = await profiles.post("/tenants", json=body, headers=signed(OPERATOR))
        if response.status_code != 201:
            raise SystemExit(f"creating tenant {tenant} failed: {response.status_code} {response.text}")
        member = Identity(sub=f"bench-{key}", tenant=tenant, roles=frozenset({"member"}))
        actors = []
        for number in range(actors_per_town):
            response = await profiles.post("/actors", headers=signed(member), json={
                "type": ACTOR_TYPES[number % len(ACTOR_TYPES)],
                "name": f"{name} Akteur {number}", "email": f"{key}{number}@bench.example",
                "location": {"lat": lat, "lon": lon}})
            if response.status_code != 201:
                raise SystemExit(f"creating an actor failed: {response.status_code} {response.text}")
            actors.append(response.json()["id"])
        towns.append(Town(tenant, lat, lon, member, actors))
    return towns


def item_body(rng: random.Random, town: Town, number: int) -> dict:
    # About 3, 6 or 9 km around the town centre, like the matcher's integration streams:
    # a few suggestions per item, as across a whole state, not dozens.
    spread = rng.choice((0.027, 0.054, 0.081))
    return {
        "actor_id": town.actors[number % len(town.actors)],
        "title": f"{rng.choice(TITLES)} #{number}",
        "description": "Benchmark",
        "categories": rng.sample(FIELDS, rng.choice([1, 1, 2])),
        "engagement": rng.choice(["spontaneous", "regular", "project"]),
        "location": {"lat": round(town.lat + rng.gauss(0, spread), 5),
                     "lon": round(town.lon + rng.gauss(0, spread * 1.6), 5)},
        "radius_km": float(rng.choice((3, 5, 5, 8, 10, 15))),
        "remote": False,
        "visibility": rng.choice(["tenant", "region"]),
        "languages": ["de"],
    }


async def publish(run: Run, profiles_url: str, towns: list[Town], concurrency: int,
                  rng: random.Random) -> None:
    """One POST every 1/rate seconds, whatever the answers take; `concurrency` senders, each
    with a single keep-alive connection of its own. (One client with a large shared pool
    spends more CPU on its pool bookkeeping than on the requests once they queue up: half a
    core at 50 requests/s, taken from the stack being measured.)"""
    total = int(run.rate * run.seconds)
    due_posts: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def sender() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=profiles_url, timeout=60, limits=limits) as client:
            while (post := await due_posts.get()) is not None:
                await send(client, *post)

    async def send(client: httpx.AsyncClient, number: int, sent_at: float) -> None:
        town = towns[number % len(towns)]
        # Towns take turns, and within a town offers and needs alternate.
        kind = "offers" if (number // len(towns)) % 2 == 0 else "needs"
        started = time.monotonic()
        try:
            response = await client.post(f"/{kind}", json=bodies[number],
                                         headers=signed(town.member))
        except httpx.HTTPError as exc:
            run.failed += 1
            name = exc.__class__.__name__
            run.failures[name] = run.failures.get(name, 0) + 1
            return
        if response.status_code == 201:
            run.accepted += 1
            run.post_seconds.append(time.monotonic() - started)
            run.accepted_at[response.json()["id"]] = (time.time(), sent_at)
        else:
            run.failed += 1
            key = str(response.status_code)
            run.failures[key] = run.failures.get(key, 0) + 1

    bodies = [item_body(rng, towns[n % len(towns)], n) for n in range(total)]
    senders = [asyncio.create_task(sender()) for _ in range(concurrency)]
    run.started = time.monotonic()
    for number in range(total):
        delay = run.started + number / run.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        due_posts.put_nowait((number, time.monotonic() - run.started))
    for _ in senders:
        due_posts.put_nowait(None)
    await asyncio.gather(*senders)
    run.publish_seconds = time.monotonic() - run.started


async def read_notifications(run: Run, mongo_uri: str, actors: list[str]) -> None:
    """Read the stored match notifications once the pipeline is drained; the first one about
    each pair is its arrival (`created_at` is stored with it). Reading them only afterwards keeps
    the measurement from loading the document store the pipeline is using."""
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(mongo_uri, tz_aware=True)
    ours = set(actors)
    try:
        cursor = client["notifications"]["notifications"].find(
            {"type": "match.found"}, projection={"actor_id": 1, "data": 1, "created_at": 1})
        docs = sorted([doc async for doc in cursor if doc.get("actor_id") in ours],
                      key=lambda doc: doc["created_at"])
    finally:
        await client.close()
    for doc in docs:
        run.notified_total += 1
        data = doc.get("data", {})
        pair = (data.get("offer_id"), data.get("need_id"))
        sides = [run.accepted_at.get(item_id) for item_id in pair]
        if None in sides or pair in run.notified_pairs:
            continue
        run.notified_pairs.add(pair)
        run.notified.update(pair)
        completed_at, sent_at = max(sides)  # the later POST made the match possible
        latency = max(0.0, doc["created_at"].timestamp() - completed_at)
        run.notified_when.append((sent_at, latency))
        if sent_at >= run.warmup:
            run.notified_after.append(latency)


def by_window(run: Run, window_s: float) -> list[dict]:
    """The latency of the pairs completed in each stretch of the run, and how many new pairs
    per second the pipeline had to announce then: items stay open, so each new item finds more
    partners as the run goes on, and this shows where the latency starts to grow."""
    def length(number: int) -> float:  # the last stretch may be shorter
        return max(1.0, min(window_s, run.seconds - number * window_s))

    windows: dict[int, list[float]] = {}
    for sent_at, latency in run.notified_when:
        windows.setdefault(int(sent_at // window_s), []).append(latency)
    return [{"from_s": number * window_s, "to_s": number * window_s + length(number),
             "pairs_per_s": round(len(latencies) / length(number), 1),
             "latency_s": distribution(latencies)}
            for number, latencies in sorted(windows.items())]


async def matched_items(mongo_uri: str, tenants: list[str]) -> set[str]:
    """Items the matcher announced at least one match.found for (found or withdrawn since)."""
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        cursor = client["matching"]["matches"].find({"need.tenant": {"$in": tenants}},
                                                    projection={"offer_id": 1, "need_id": 1})
        items: set[str] = set()
        async for doc in cursor:
            items.update((doc["offer_id"], doc["need_id"]))
        return items
    finally:
        await client.close()


def _metric_sum(text: str, name: str, *must_contain: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith(name + "{") and all(part in line for part in must_contain))


async def _metrics(url: str) -> str:
    """`url`: a process's metrics URL (LocalStack.metrics_url)."""
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(url)).text


@dataclass
class Progress:
    item_events_matched: float   # item events the matcher applied
    match_events: float          # match events the matcher announced
    match_events_consumed: float  # ... that the notifications consumer got through


async def pipeline_progress(stack: LocalStack) -> Progress:
    worker = await _metrics(stack.metrics_url("matching-worker"))
    notifications = await _metrics(stack.metrics_url("notifications"))
    consumed = sum(_metric_sum(notifications, name, 'topic="matches"') for name in (
        "events_processed_total", "events_duplicate_total", "events_dead_lettered_total"))
    return Progress(_metric_sum(worker, "events_processed_total", 'topic="items"'),
                    _metric_sum(worker, "matching_transitions_total"), consumed)


async def drain(run: Run, stack: LocalStack, timeout_s: float) -> Progress:
    """Wait until the matcher has applied every item and the notifications consumer has got
    through every match event it announced (their /metrics), or until the time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        progress = await pipeline_progress(stack)
        if progress.item_events_matched >= run.accepted and \
                progress.match_events_consumed >= progress.match_events:
            return progress
        if time.monotonic() >= deadline:
            return progress
        print(f"  draining: matcher applied {progress.item_events_matched:.0f}/{run.accepted} "
              f"items; notifications consumed {progress.match_events_consumed:.0f}/"
              f"{progress.match_events:.0f} match events", flush=True)
        await asyncio.sleep(2)


async def report_progress(run: Run, stack: LocalStack, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(5)
        elapsed = time.monotonic() - run.started
        progress = await pipeline_progress(stack)
        print(f"  {run.accepted} accepted ({run.accepted / elapsed:.0f}/s), {run.failed} failed; "
              f"matcher applied {progress.item_events_matched:.0f}, notifications consumed "
              f"{progress.match_events_consumed:.0f}/{progress.match_events:.0f} match events",
              flush=True)


async def worker_match_latency(metrics_url: str) -> dict:
    """The matcher's own view: item event time -> match.found acknowledged (histogram)."""
    text = await _metrics(metrics_url)
    buckets: list[tuple[float, float]] = []
    total = count = 0.0
    for line in text.splitlines():
        if not line.startswith("match_latency_seconds") or 'type="match.found"' not in line:
            continue
        value = float(line.split()[-1])
        if line.startswith("match_latency_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), value))
        elif line.startswith("match_latency_seconds_sum"):
            total = value
        elif line.startswith("match_latency_seconds_count"):
            count = value

    def upper_bound(q: float) -> float | None:
        """The histogram bucket holding quantile q (None: above the largest bucket)."""
        for bound, cumulative in sorted(buckets):
            if count and cumulative >= q * count:
                return None if bound == float("inf") else bound
        return None

    return {"match_found_events": int(count),
            "mean_s": round(total / count, 3) if count else None,
            "p50_at_most_s": upper_bound(0.5), "p99_at_most_s": upper_bound(0.99)}


async def benchmark(stack: LocalStack, args: argparse.Namespace) -> dict:
    global GATEWAY_KEYS
    GATEWAY_KEYS = stack.keys_for("gateway")
    started_at = datetime.now(timezone.utc).isoformat()
    rng = random.Random(SEED)
    run_id = f"bench{rng.randrange(10**6):06d}"
    async with httpx.AsyncClient(base_url=stack.url("profiles"), timeout=60) as profiles:
        towns = await create_towns(profiles, run_id, args.actors_per_town)
        actors = [actor for town in towns for actor in town.actors]
        print(f"{len(towns)} municipalities with {len(actors)} actors; publishing "
              f"{args.rate:g} items/s for {args.seconds:g} s", flush=True)
        run = Run(rate=args.rate, seconds=args.seconds, warmup=args.warmup)
        stop = asyncio.Event()
        reporter = asyncio.create_task(report_progress(run, stack, stop))
        cpu = CpuMeter(stack)
        cpu.start()
        await publish(run, stack.url("profiles"), towns, args.concurrency, rng)
        cores_while_publishing = cpu.cores()
        print(f"publishing done: {run.accepted} accepted in {run.publish_seconds:.1f} s; "
              f"draining", flush=True)
        progress = await drain(run, stack, args.drain_timeout)
        stop.set()
        reporter.cancel()
    tenants = [town.id for town in towns]
    matcher = await worker_match_latency(stack.metrics_url("matching-worker"))
    await read_notifications(run, stack.mongo_uri_for("notifications"), actors)
    matched = await matched_items(stack.mongo_uri_for("matching"), tenants)
    waiting = (matched - run.notified) & set(run.accepted_at)
    accepted = run.accepted
    backlog = max(0, round(progress.match_events - progress.match_events_consumed))
    return {
        "benchmark": "pipeline",
        "started_at": started_at,
        "rate_target_per_s": args.rate,
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "coalesce_window_s": float(os.environ.get(
            "COALESCE_WINDOW_S", NotificationsSettings.model_fields["coalesce_window_s"].default)),
        "concurrency": args.concurrency,
        "accepted": accepted,
        "failed": run.failed,
        "failures": run.failures,
        "publish_seconds": round(run.publish_seconds, 3),
        "accepted_per_s": round(accepted / run.publish_seconds, 1) if run.publish_seconds else None,
        "post_latency_s": distribution(run.post_seconds),
        "item_to_notification_s": distribution(run.notified_after),
        "item_to_notification_by_window": by_window(run, WINDOW_S),
        "pairs_notified": len(run.notified_pairs),
        "notifications_stored": run.notified_total,
        "match_events_announced": round(progress.match_events),
        "match_events_per_item": round(progress.match_events / accepted, 2) if accepted else None,
        "items_with_matches": len(matched),
        "items_without_any_match": accepted - len(matched),
        "not_notified_at_end": len(waiting),
        # Match events the notifications consumer had not got through when the drain ended:
        # while it is > 0, items not notified yet are backlog, not loss.
        "notifications_backlog_events": backlog,
        "lost_items": len(waiting) if backlog == 0 else None,
        "loss_ratio": round(len(waiting) / len(matched), 5) if matched and backlog == 0 else None,
        "matcher_item_event_to_match_event": matcher,
        # CPU cores each process used while items were being posted (the machine has
        # "machine.cpus"): a sum near that means the machine, not one part, is the limit.
        "cpu_cores_while_publishing": cores_while_publishing,
        "cpu_cores_while_publishing_total": round(sum(cores_while_publishing.values()), 2),
        "path": "POST profiles -> MongoDB + outbox -> relay -> Kafka items -> matching worker "
                "-> Kafka matches -> notifications consumer -> MongoDB",
        "stack": "local: tansu (memory), SecantusDB, noida-db, redis; services as processes",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
    }


def summary(result: dict) -> str:
    def seconds(value):
        return "-" if value is None else f"{value:.3f} s"

    latency, post = result["item_to_notification_s"], result["post_latency_s"]
    matcher = result["matcher_item_event_to_match_event"]
    return "\n".join([
        f"pipeline benchmark: {result['accepted']} items accepted ({result['failed']} failed) "
        f"in {result['publish_seconds']:.1f} s = {result['accepted_per_s']} items/s "
        f"(target {result['rate_target_per_s']:g}/s), coalescing window "
        f"{result['coalesce_window_s']:g} s",
        f"  POST latency          p50 {seconds(post['p50'])}  p99 {seconds(post['p99'])}",
        f"  201 -> notification   p50 {seconds(latency['p50'])}  p95 {seconds(latency['p95'])}  "
        f"p99 {seconds(latency['p99'])}  max {seconds(latency['max'])}  "
        f"({latency['samples']} measured)",
        f"  per {WINDOW_S:g} s of the run (when the completing POST was sent): " + "; ".join(
            f"{window['from_s']:g}-{window['to_s']:g} s {window['pairs_per_s']:g} pairs/s "
            f"p99 {seconds(window['latency_s']['p99'])}"
            for window in result["item_to_notification_by_window"]),
        (f"  loss: {result['lost_items']} of {result['items_with_matches']} matched items without "
         f"a notification" if result["lost_items"] is not None else
         f"  loss: unknown, the notifications consumer was {result['notifications_backlog_events']}"
         f" match events behind at the end ({result['not_notified_at_end']} of "
         f"{result['items_with_matches']} matched items not notified yet)")
        + f" ({result['notifications_stored']} notifications stored; "
          f"{result['items_without_any_match']} items had no match at all)",
        f"  CPU while publishing: {result['cpu_cores_while_publishing_total']} cores of "
        f"{result['machine']['cpus']} ("
        + ", ".join(f"{name} {cores}" for name, cores in
                    list(result["cpu_cores_while_publishing"].items())[:6]) + ")",
        f"  matcher: {matcher['match_found_events']} match.found, item event -> match event "
        f"mean {seconds(matcher['mean_s'])}, p50 <= {seconds(matcher['p50_at_most_s'])}, "
        f"p99 <= {seconds(matcher['p99_at_most_s'])}",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100, help="items per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="items sent in the first seconds are not measured")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--actors-per-town", type=int, default=5)
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pipeline.json")
    parser.add_argument("--keep-data", action="store_true", help="keep the stack's data dir")
    parser.add_argument("--coalesce-window", type=float, default=None, metavar="SECONDS",
                        help="the notifications' COALESCE_WINDOW_S (default: the service's "
                             "own, 2 s); 0 tells every pair at once, as before coalescing")
    args = parser.parse_args()
    if args.coalesce_window is not None:  # the stack's processes inherit this environment
        os.environ["COALESCE_WINDOW_S"] = f"{args.coalesce_window:g}"

    return run_on_local_stack(name="pipeline", services=SERVICES, benchmark=benchmark,
                              summary=summary, args=args)


if __name__ == "__main__":
    sys.exit(main())

"""`$in` plus a range on the local document store: before and after the per-value queries.

Starts its own SecantusDB (the local MongoDB-protocol server), loads N items, contact requests
and stored pairs (default 20,000 each), and runs the lists of profiles and the matcher's
take-over read two ways: as the single `$in` query the adapters used to send ("before") and
through today's adapters ("after": one equality-plus-range query per value, merged by id).
For each it reports the median time and, from the server's explain of every query sent
(recorded with a command listener), the index used and the documents examined.

    .venv/bin/python bench/local_store_queries.py [--docs 20000] [--runs 15] [--json out.json]

Not a timed test: figures depend on the machine (2 cores here).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from pymongo import AsyncMongoClient, monitoring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from platform_common.events import utcnow  # noqa: E402
from services.matching.adapters.match_store import MongoMatchStore  # noqa: E402
from services.profiles.adapters.mongo import MongoProfileStore  # noqa: E402
from services.profiles.domain.rules import ALL_STATUSES  # noqa: E402

ACTORS, TENANTS, PARTITIONS = 2000, 40, 6


class Recorder(monitoring.CommandListener):
    """The filters of the `find` commands sent while recording."""

    def __init__(self):
        self.finds: list[tuple[str, dict, dict | None]] | None = None

    def started(self, event):
        if self.finds is not None and event.command_name == "find":
            command = event.command
            self.finds.append((command["find"], dict(command.get("filter", {})),
                               dict(command["sort"]) if "sort" in command else None))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def item_doc(n: int, now) -> dict:
    actor = n % ACTORS  # each actor has offers and needs; each tenant the items of 50 actors
    return {
        "_id": f"item-{n:07d}", "kind": ("offer", "need")[n // ACTORS % 2],
        "tenant": f"tenant-{actor % TENANTS}", "actor_id": f"actor-{actor:05d}",
        "actor_type": "association", "title": f"Hilfe Nummer {n}",
        "description": "Wir suchen Unterstützung bei der Lebensmittelausgabe. " * 4,
        "categories": ["social", "elderly"], "skills": ["logistik", "teamarbeit"],
        "requirements": ["first_aid"], "engagement": "regular",
        "location": {"lat": 51.9 + (n % 100) / 1000, "lon": 7.1 + (n % 97) / 1000},
        "place_name": "Coesfeld", "radius_km": 15.0, "remote": False,
        "schedule": {"dates": [], "weekly": [{"day": "tue", "start": "14:00", "end": "17:00"}]},
        "capacity": 3, "capacity_left": 3,
        "visibility": ("tenant", "region", "state")[n % 3], "languages": ["de"],
        "accessible": False, "status": ALL_STATUSES[n % 7 % 5] if n % 7 < 5 else "published",
        "hidden_reason": None, "created_at": now, "updated_at": now,
        "expires_at": now + timedelta(days=180 if n % 50 else -1), "version": 1,
    }


def contact_doc(n: int, now) -> dict:
    requester, recipient = f"actor-{n % ACTORS:05d}", f"actor-{(n * 7 + 3) % ACTORS:05d}"
    return {"_id": f"contact-{n:07d}", "offer_id": f"item-{n:07d}", "need_id": f"item-{n + 1:07d}",
            "requester_actor_id": requester, "recipient_actor_id": recipient,
            "parties": [requester, recipient], "requester_tenant": "t", "recipient_tenant": "t",
            "message": "Hallo! " * 20, "status": ("requested", "accepted", "declined")[n % 3],
            "created_at": now, "updated_at": now, "decided_at": None, "version": 1}


def pair_doc(n: int) -> dict:
    return {"_id": f"offer-{n:07d}:need-{n:07d}", "offer_id": f"offer-{n:07d}",
            "need_id": f"need-{n:07d}", "need_partition": n % PARTITIONS,
            "state": "found" if n % 4 else "withdrawn", "score": (n % 100) / 100,
            "fingerprint": f"fp-{n}", "reasons": [{"factor": "categories", "value": 0.5}] * 4,
            "offer": {"id": f"offer-{n:07d}", "title": "Angebot"},
            "need": {"id": f"need-{n:07d}", "title": "Bedarf"},
            "batch": {"instance": "w-1", "n": n // 500}}


async def load(client, docs: int) -> None:
    now = utcnow()
    profiles, matching = client["bench_profiles"], client["bench_matching"]
    for collection, make in ((profiles.items, lambda n: item_doc(n, now)),
                             (profiles.contacts, lambda n: contact_doc(n, now)),
                             (matching.matches, pair_doc)):
        for start in range(0, docs, 2000):
            await collection.insert_many([make(n) for n in range(start, min(docs, start + 2000))])


def plan_of(explained: dict) -> tuple[str, int]:
    stage, names = explained["queryPlanner"]["winningPlan"], []
    while stage:
        names.append(stage["stage"] + (f"({stage['indexName']})" if "indexName" in stage else ""))
        stage = stage.get("inputStage")
    return "/".join(names), explained["executionStats"]["totalDocsExamined"]


async def measure(client, recorder: Recorder, name: str, call, runs: int) -> dict:
    recorder.finds = []
    await call()
    sent, recorder.finds = recorder.finds, None
    plans, examined = [], 0
    for collection, filter, sort in sent:
        db = "bench_matching" if collection == "matches" else "bench_profiles"
        cursor = client[db][collection].find(filter)
        if sort:
            cursor = cursor.sort(list(sort.items()))
        plan, docs = plan_of(await cursor.explain())
        plans.append(plan)
        examined += docs
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return {"case": name, "queries": len(sent), "plans": sorted(set(plans)),
            "docs_examined": examined, "median_ms": round(statistics.median(times), 1),
            "p90_ms": round(sorted(times)[int(len(times) * 0.9) - 1], 1)}


async def main(docs: int, runs: int, out: str | None) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="local-store-bench-"))
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "secantusd-py"), "--host",
                               "127.0.0.1", "--port", str(port), "--storage-path", str(data_dir)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    recorder = Recorder()
    client = AsyncMongoClient(f"mongodb://127.0.0.1:{port}/?directConnection=true",
                              event_listeners=[recorder], tz_aware=True)
    try:
        for _ in range(100):
            try:
                await client.admin.command("ping")
                break
            except Exception:  # noqa: BLE001 - still starting
                await asyncio.sleep(0.1)
        profiles = MongoProfileStore(client, "bench_profiles")
        await profiles.ensure_indexes()
        pairs = MongoMatchStore(client["bench_matching"])
        await pairs.ensure_indexes()
        started = time.perf_counter()
        await load(client, docs)
        print(f"loaded {docs} items, contacts and pairs in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        items, contacts = client["bench_profiles"].items, client["bench_profiles"].contacts
        read = profiles.read
        own = [f"actor-{a:05d}" for a in (3, 41, 77, 120, 555)]  # a caller's five profiles
        cursor = "item-0005000"

        async def page(collection, query, limit=21):
            return await collection.find(query).sort("_id", 1).limit(limit).to_list(None)

        cases = [
            ("own items (5 actors, all statuses), page after a cursor",
             lambda: page(items, {"actor_id": {"$in": own}, "kind": "need",
                                  "status": {"$in": list(ALL_STATUSES)}, "_id": {"$gt": cursor}}),
             lambda: read.list_items(kind="need", actor_ids=own, statuses=list(ALL_STATUSES),
                                     after=cursor, limit=21)),
            ("an actor's items seen by a visitor (published, 2 visibilities)",
             lambda: page(items, {"actor_id": {"$in": own[:1]}, "kind": "need",
                                  "status": {"$in": ["published"]},
                                  "visibility": {"$in": ["region", "state"]}}),
             lambda: read.list_items(kind="need", actor_ids=own[:1], statuses=["published"],
                                     visibilities=["region", "state"], limit=21)),
            ("a tenant's items seen by a visitor, page after a cursor",
             lambda: page(items, {"tenant": "tenant-3", "kind": "offer",
                                  "status": {"$in": ["published"]},
                                  "visibility": {"$in": ["region", "state"]},
                                  "_id": {"$gt": cursor}}),
             lambda: read.list_items(kind="offer", tenant="tenant-3", statuses=["published"],
                                     visibilities=["region", "state"], after=cursor, limit=21)),
            ("a tenant's items seen by a visitor, first page",
             lambda: page(items, {"tenant": "tenant-3", "kind": "offer",
                                  "status": {"$in": ["published"]},
                                  "visibility": {"$in": ["region", "state"]}}),
             lambda: read.list_items(kind="offer", tenant="tenant-3", statuses=["published"],
                                     visibilities=["region", "state"], limit=21)),
            ("a tenant's items for its admin (all statuses), first page",
             lambda: page(items, {"tenant": "tenant-3", "kind": "offer",
                                  "status": {"$in": list(ALL_STATUSES)}}),
             lambda: read.list_items(kind="offer", tenant="tenant-3", statuses=list(ALL_STATUSES),
                                     limit=21)),
            ("contact requests of 5 actors (either side), page after a cursor",
             lambda: page(contacts, {"parties": {"$in": own}, "_id": {"$gt": "contact-0001000"}}),
             lambda: read.list_contacts(actor_ids=own, after="contact-0001000", limit=21)),
            ("matcher take-over: found pairs of 1 of 6 partitions",
             lambda: client["bench_matching"].matches.find(
                 {"need_partition": {"$in": [5]}, "state": "found"},
                 projection={"fingerprint": 1, "need_partition": 1}).to_list(None),
             lambda: pairs.found_fingerprints([5])),
            ("matcher take-over: found pairs of 3 of 6 partitions",
             lambda: client["bench_matching"].matches.find(
                 {"need_partition": {"$in": [0, 2, 4]}, "state": "found"},
                 projection={"fingerprint": 1, "need_partition": 1}).to_list(None),
             lambda: pairs.found_fingerprints([0, 2, 4])),
        ]
        results = []
        for name, before, after in cases:
            old = await measure(client, recorder, name, before, runs)
            new = await measure(client, recorder, name, after, runs)
            expected, answered = [d["_id"] for d in await before()], await after()
            if isinstance(answered, dict):  # the take-over's answer has no order
                expected = sorted(expected)
            assert expected == _ids(answered), f"{name}: not the same answer"
            results.append({"case": name, "before": old, "after": new})
            print(f"{name}\n  before: {old['median_ms']:>8} ms  {old['docs_examined']:>6} docs  "
                  f"{old['queries']} queries  {old['plans']}\n  after:  {new['median_ms']:>8} ms  "
                  f"{new['docs_examined']:>6} docs  {new['queries']} queries  {new['plans']}")
        if out:
            Path(out).write_text(json.dumps({"docs": docs, "runs": runs, "results": results},
                                            indent=2) + "\n")
    finally:
        await client.close()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def _ids(found) -> list:
    if isinstance(found, dict):  # found_fingerprints: per partition, pair key -> fingerprint
        return sorted(key for pairs in found.values() for key in pairs)
    return [getattr(record, "id", None) or record["_id"] for record in found]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json")
    args = parser.parse_args()
    asyncio.run(main(args.docs, args.runs, args.json))

"""Snapshots of the matching worker's state: what they hold, how they are written, when they fit.

A snapshot holds the engine's whole state (`EngineState`: numpy arrays and the Python
structures behind them), the worker's own state (its open items with the sides shown in match
events, the tenant versions it applied) and, per (topic, partition), the offset up to which
every record was applied. A worker restored from it and fed the records from those offsets on
is in the state a full replay would give (tests/unit/matching/test_snapshots.py).

Taking one is split in two (services/matching/worker/processor.py): `capture` under the
worker's lock between two batches (array copies and shallow container copies: the pause),
then `encode` in a thread (numpy `.npy` bytes for the arrays, pickle for the Python parts, in
chunks so that the event loop gets the GIL between them) while the worker goes on.

Pickle is used only for data this worker wrote itself into its own store (a directory of the
worker's volume or matching's own database, neither reachable from outside): unpickling runs
code named in the data, so a snapshot from anywhere else must never be loaded.

A snapshot is used only when its format version, the engine's parameters (k, buffer size,
grid, tombstone bounds), the digest of the matching code that computed it and the partition
counts of the topics all equal the running worker's; otherwise the worker replays in full and
logs why (`unusable`).
"""
from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from services.matching.engine.engine import EngineState
from services.matching.ports import Snapshot

FORMAT_VERSION = 1
# Items per pickled chunk: a chunk holds the GIL for a few tens of milliseconds at most.
PICKLE_CHUNK = 5_000
# The code whose behaviour a snapshot's content depends on: a change to any of these
# makes older snapshots unusable (the rules may score differently now).
_CODE = ("engine/engine.py", "engine/index.py", "engine/model.py", "engine/rules.py",
         "translate.py", "worker/snapshot.py")

ItemRow = tuple  # (id, actor_id, tenant, title, kind, partition, changed_at)
# Stored pairs per pickled chunk (two short strings each).
PAIR_CHUNK = 50_000


@dataclass
class Announced:
    """What the instance that took the snapshot announced for: the partitions it owned (each
    reconciled, with the owner record its take left), its view of their stored found pairs
    (equal to its engine's pairs at that moment: it was between two batches) and its last
    committed batch. A restarted worker whose take-over finds an owner record unchanged needs
    to check only the pairs written or changed since (processor.py, `_reconcile`)."""

    instance: str
    batch: int
    takes: dict[int, str]                    # partition -> owner record token
    stored: dict[int, dict[str, str]]        # partition -> pair key -> fingerprint


@dataclass
class WorkerState:
    """What a snapshot holds, in memory: captured by the worker, or read back by `decode`.

    `items`: the worker's open items (processor.OpenItem) when captured (a shallow copy: they
    are replaced, never changed), `ItemRow`s when decoded."""

    engine: EngineState
    items: list
    tenant_versions: dict[str, int]
    offsets: dict[tuple[str, int], int]     # next offset to read, per (topic, partition)
    partitions: dict[str, int]              # partition count per consumed topic
    owner_partitions: int                   # partitions of `items` that split the pairs
    instance: str
    taken_at: datetime
    announced: Announced | None = None


@cache
def code_digest() -> str:
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in _CODE:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    return digest.hexdigest()[:16]


def item_row(item) -> ItemRow:
    side = item.side
    return (side.id, side.actor_id, side.tenant, side.title, item.kind, item.partition,
            item.changed_at)


def encode(state: WorkerState) -> Snapshot:
    """The snapshot's bytes (runs in a thread: nothing here touches the live worker)."""
    sections: dict[str, bytes] = {}
    for name, array in state.engine.arrays.items():
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        sections[f"engine.array.{name}"] = buffer.getvalue()
    objects = dict(state.engine.objects)
    prep = objects.pop("prep")
    sections["engine.objects"] = pickle.dumps(objects, protocol=5)
    for n, start in enumerate(range(0, len(prep), PICKLE_CHUNK)):
        sections[f"engine.prep.{n:05d}"] = pickle.dumps(prep[start:start + PICKLE_CHUNK], protocol=5)
    rows = [item if isinstance(item, tuple) else item_row(item) for item in state.items]
    for n, start in enumerate(range(0, len(rows), PICKLE_CHUNK)):
        sections[f"worker.items.{n:05d}"] = pickle.dumps(rows[start:start + PICKLE_CHUNK], protocol=5)
    sections["worker.tenant_versions"] = pickle.dumps(state.tenant_versions, protocol=5)
    announced = state.announced
    if announced is not None:
        for partition, pairs in announced.stored.items():
            items = list(pairs.items())
            for n, start in enumerate(range(0, max(1, len(items)), PAIR_CHUNK)):
                sections[f"worker.stored.{partition:04d}.{n:05d}"] = pickle.dumps(
                    items[start:start + PAIR_CHUNK], protocol=5)
    meta = {
        "format": FORMAT_VERSION,
        "code": code_digest(),
        "engine": state.engine.parameters,
        "partitions": state.partitions,
        "owner_partitions": state.owner_partitions,
        "offsets": [[topic, partition, offset]
                    for (topic, partition), offset in sorted(state.offsets.items())],
        "instance": state.instance,
        "taken_at": state.taken_at.isoformat(),
        "open_items": len(rows),
        "tenants": len(state.tenant_versions),
        "announced": None if announced is None else {
            "instance": announced.instance, "batch": announced.batch,
            "takes": {str(p): take for p, take in sorted(announced.takes.items())}},
    }
    return Snapshot(meta=meta, sections=sections)


def unusable(meta: dict[str, Any], *, engine_parameters: dict, partitions: dict[str, int],
             owner_partitions: int) -> str | None:
    """Why this snapshot must not be restored into the running worker (None: it fits)."""
    if meta.get("format") != FORMAT_VERSION:
        return f"format {meta.get('format')!r}, this worker reads {FORMAT_VERSION}"
    if meta.get("code") != code_digest():
        return "written by other matching code (engine, rules or translation changed)"
    if meta.get("engine") != engine_parameters:
        return f"engine parameters {meta.get('engine')} differ from {engine_parameters}"
    if meta.get("partitions") != partitions or meta.get("owner_partitions") != owner_partitions:
        return (f"partition counts {meta.get('partitions')} / {meta.get('owner_partitions')} "
                f"differ from {partitions} / {owner_partitions}")
    return None


def decode(snapshot: Snapshot) -> WorkerState:
    """The state a snapshot holds (runs in a thread; only for snapshots this service wrote,
    see the module's note on pickle)."""
    sections, meta = snapshot.sections, snapshot.meta
    arrays = {}
    prefix = "engine.array."
    for name, data in sections.items():
        if name.startswith(prefix):
            arrays[name[len(prefix):]] = np.load(io.BytesIO(data), allow_pickle=False)
    objects = pickle.loads(sections["engine.objects"])
    prep: list = []
    rows: list[ItemRow] = []
    stored: dict[int, dict[str, str]] = {}
    for name in sorted(sections):
        if name.startswith("engine.prep."):
            prep += pickle.loads(sections[name])
        elif name.startswith("worker.items."):
            rows += pickle.loads(sections[name])
        elif name.startswith("worker.stored."):
            stored.setdefault(int(name.split(".")[2]), {}).update(pickle.loads(sections[name]))
    objects["prep"] = prep
    announced = None
    if meta.get("announced") is not None:
        takes = {int(p): take for p, take in meta["announced"]["takes"].items()}
        announced = Announced(instance=meta["announced"]["instance"],
                              batch=meta["announced"]["batch"], takes=takes,
                              stored={p: stored.get(p, {}) for p in takes})
    return WorkerState(
        engine=EngineState(meta["engine"], arrays, objects),
        items=rows,
        tenant_versions=pickle.loads(sections["worker.tenant_versions"]),
        offsets={(topic, partition): offset for topic, partition, offset in meta["offsets"]},
        partitions=dict(meta["partitions"]),
        owner_partitions=meta["owner_partitions"],
        instance=meta["instance"],
        taken_at=datetime.fromisoformat(meta["taken_at"]),
        announced=announced,
    )

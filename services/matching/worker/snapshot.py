"""Snapshots of the matching worker's state: what they hold, how they are written, when they fit.

A snapshot holds the engine's whole state (`EngineState`: numpy arrays and the Python
structures behind them), the worker's own state (its open items with the sides shown in match
events, the tenant versions it applied) and, per (topic, partition), the offset up to which
every record was applied. A worker restored from it and fed the records from those offsets on
is in the state a full replay would give (tests/unit/matching/test_snapshots.py).

Taking one is split in two (services/matching/worker/processor.py and snapshotting.py): `capture` under the
worker's lock between two batches (array copies and shallow container copies: the pause),
then `encode` in a thread while the worker goes on. What restoring costs decides the format:
- per-item data is stored in columns, not as pickled objects: the engine's prepared items
  (`engine/columns.py`), the open items, the stored pairs (numpy arrays for numbers, lists of
  strings pickled in chunks so that the event loop gets the GIL between them);
- what can be rebuilt cheaply is not stored (the slot table from the items' ids, the buckets'
  rows from the row templates, engine.py);
- every section is compressed with zstd at a low level (multi-threaded), because reading the
  file from a slow volume costs more than decompressing it (bench/README.md, restart).

Pickle is used only for data this worker wrote itself into its own store (a directory of the
worker's volume or matching's own database, neither reachable from outside): unpickling runs
code named in the data, so a snapshot from anywhere else must never be loaded.

A snapshot is used only when its format version, the engine's parameters (k, buffer size,
grid, tombstone bounds), the digest of the matching code that computed it and the partition
counts of the topics all equal the running worker's; otherwise the worker replays in full and
logs why (`unusable`).
"""
from __future__ import annotations

import gc
import hashlib
import io
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import zstandard

from services.matching.engine import columns
from services.matching.engine.engine import EngineState
from services.matching.ports import Snapshot

# 2: sections compressed (zstd), prepared items and open items in columns, bucket rows
# rebuilt from the row templates.
FORMAT_VERSION = 2
# Values per pickled chunk of a list column (strings, datetimes): a few milliseconds of GIL.
LIST_CHUNK = 50_000
# A low level: compressing keeps up with the encoding; decompression is fast at any level.
ZSTD_LEVEL = 1
# The code whose behaviour a snapshot's content depends on: a change to any of these
# makes older snapshots unusable (the rules may score differently now).
_CODE = ("engine/engine.py", "engine/index.py", "engine/model.py", "engine/rules.py",
         "engine/columns.py", "translate.py", "worker/snapshot.py")

ItemRow = tuple  # (id, actor_id, tenant, title, kind, partition, changed_at)
ITEM_ROW_FIELDS = ("id", "actor_id", "tenant", "title", "kind", "partition", "changed_at")


@dataclass
class Announced:
    """What the instance that took the snapshot announced for: the partitions it owned (each
    reconciled, with the owner record its take left), its view of their stored found pairs
    (equal to its engine's pairs at that moment: it was between two batches) and its last
    committed batch. A restarted worker whose take-over finds an owner record unchanged needs
    to check only the pairs written or changed since (takeover.py, `TakeOver.reconcile`)."""

    instance: str
    batch: int
    takes: dict[int, str]                    # partition -> owner record token
    stored: dict[int, dict[str, str]]        # partition -> pair key -> fingerprint


@dataclass
class WorkerState:
    """What a snapshot holds, in memory: captured by the worker, or read back by `decode`.

    `items`: the worker's open items (replica.OpenItem) when captured (a shallow copy: they
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
    raw: dict[str, bytes] = {}
    for name, array in state.engine.arrays.items():
        raw[f"engine.array.{name}"] = _npy(array)
    objects = dict(state.engine.objects)
    prep, slot_of = objects.pop("prep"), objects.pop("slot_of")
    raw["engine.objects"] = pickle.dumps(objects, protocol=5)
    # slot_of comes back from the prepared items' ids; only its order is stored
    raw["engine.slot_order"] = _npy(np.fromiter(slot_of.values(), np.int64, len(slot_of)))
    _put_columns(raw, "engine.prep", columns.to_columns(prep))
    rows = [item if isinstance(item, tuple) else item_row(item) for item in state.items]
    _put_columns(raw, "worker.items", dict(zip(ITEM_ROW_FIELDS, _transposed(rows))))
    raw["worker.tenant_versions"] = pickle.dumps(state.tenant_versions, protocol=5)
    announced = state.announced
    if announced is not None:
        for partition, pairs in announced.stored.items():
            _put_columns(raw, f"worker.stored.{partition:04d}", _pair_columns(pairs, slot_of))
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
        "raw_bytes": sum(len(data) for data in raw.values()),
        "announced": None if announced is None else {
            "instance": announced.instance, "batch": announced.batch,
            "takes": {str(p): take for p, take in sorted(announced.takes.items())}},
    }
    return Snapshot(meta=meta, sections=_compressed(raw))


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
    with _kept_for_good():
        return _decode(snapshot)


@contextmanager
def _kept_for_good():
    """The cyclic garbage collector paused while the restored objects are built, and they are
    frozen once built. They live as long as the worker and hold no reference cycles, yet each
    full collection would traverse all of them: several times while they are built, about a
    second each at 1M items (measured as up to half of a restore at 100k on a busy machine)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if enabled:
            gc.enable()


def _decode(snapshot: Snapshot) -> WorkerState:
    sections, meta = _decompressed(snapshot.sections), snapshot.meta
    prefix = "engine.array."
    arrays = {name[len(prefix):]: _array(data) for name, data in sections.items()
              if name.startswith(prefix)}
    objects = pickle.loads(sections["engine.objects"])
    prep = columns.from_columns(_get_columns(sections, "engine.prep"))
    objects["prep"] = prep
    objects["slot_of"] = {prep[x].id: x for x in _array(sections["engine.slot_order"]).tolist()}
    items = _get_columns(sections, "worker.items")
    rows: list[ItemRow] = list(zip(*(items[field] for field in ITEM_ROW_FIELDS)))
    announced = None
    if meta.get("announced") is not None:
        takes = {int(p): take for p, take in meta["announced"]["takes"].items()}
        stored = {}
        ids = [p.id if p is not None else "" for p in prep]
        for partition in takes:
            pairs = _get_columns(sections, f"worker.stored.{partition:04d}")
            stored[partition] = _pairs(pairs, ids)
        announced = Announced(instance=meta["announced"]["instance"],
                              batch=meta["announced"]["batch"], takes=takes, stored=stored)
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


def _pair_columns(pairs: dict[str, str], slot_of: dict[str, int]) -> dict:
    """A partition's stored pairs. Their keys are "<offer_id>:<need_id>" of items the engine
    holds (it was between two batches), so most are stored as the two items' slots: 8 bytes
    instead of two ids. A key that does not split into two held ids is kept as it is."""
    offers, needs, fingerprints, other_keys, other_fingerprints = [], [], [], [], []
    for key, value in pairs.items():
        offer_id, _, need_id = key.partition(":")
        offer, need = slot_of.get(offer_id), slot_of.get(need_id)
        if offer is None or need is None:
            other_keys.append(key)
            other_fingerprints.append(value)
        else:
            offers.append(offer)
            needs.append(need)
            fingerprints.append(value)
    return {"offer": np.array(offers, np.int32), "need": np.array(needs, np.int32),
            "fingerprint": fingerprints,
            "other_key": other_keys, "other_fingerprint": other_fingerprints}


def _pairs(columns: dict, ids: list[str]) -> dict[str, str]:
    """The stored pairs `_pair_columns` wrote, `ids` being the item id of each slot."""
    keys = [ids[offer] + ":" + ids[need]
            for offer, need in zip(columns["offer"].tolist(), columns["need"].tolist())]
    pairs = dict(zip(keys, columns["fingerprint"]))
    pairs.update(zip(columns["other_key"], columns["other_fingerprint"]))
    return pairs


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _array(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def _transposed(rows: list[ItemRow]) -> list[list]:
    """The rows' columns (empty ones when there are no rows)."""
    if not rows:
        return [[] for _ in ITEM_ROW_FIELDS]
    return [list(column) for column in zip(*rows)]


def _put_columns(raw: dict[str, bytes], prefix: str, values: dict) -> None:
    """numpy columns as `.npy`, list columns pickled in chunks of LIST_CHUNK values (a chunk
    holds the GIL for a few milliseconds only)."""
    for name, column in values.items():
        if isinstance(column, np.ndarray):
            raw[f"{prefix}.array.{name}"] = _npy(column)
            continue
        for n, start in enumerate(range(0, max(1, len(column)), LIST_CHUNK)):
            raw[f"{prefix}.list.{name}.{n:05d}"] = pickle.dumps(
                column[start:start + LIST_CHUNK], protocol=5)


def _get_columns(sections: dict[str, bytes], prefix: str) -> dict:
    values: dict = {}
    start = f"{prefix}."
    for section in sorted(name for name in sections if name.startswith(start)):
        kind, name, *_ = section[len(start):].split(".")
        if kind == "array":
            values[name] = _array(sections[section])
        else:
            values.setdefault(name, []).extend(pickle.loads(sections[section]))
    return values


def _compressed(raw: dict[str, bytes]) -> dict[str, bytes]:
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1)
    return {name: compressor.compress(data) for name, data in raw.items()}


def _decompressed(sections: dict[str, bytes]) -> dict[str, bytes]:
    """Every section decompressed, on every core (zstd releases the GIL)."""
    def decompress(data: bytes) -> bytes:
        return zstandard.ZstdDecompressor().decompress(data)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(zip(sections, pool.map(decompress, sections.values())))

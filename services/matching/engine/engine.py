"""Incremental top-K matching engine with a vectorised spatial index.

Top-K semantics
---------------
For an item X, the valid counterparts of X are the items Y for which `rules.score(X, Y)`
is not None (all hard constraints hold). topK(X) is the list of the K best valid
counterparts ordered by (score desc, counterpart id asc) -- scores are rounded to 6
decimals, so the order is exact and deterministic. The MATCH SET is

    M = { (O, N) : N in topK(O)  or  O in topK(N) }

and `matches_for(X)` lists every pair of M that involves X, as explained `Match`es, best
first (score desc, counterpart id asc). Every event (`upsert`, `remove`, `upsert_tenant`)
returns `Diff(found, withdrawn)`, exactly the change of M from before to after the event:
`found` = pairs that entered M or whose Match (score or explanation) changed; `withdrawn`
= pairs that left M, with the Match they had. Nothing else. Versions make redelivery
idempotent (see `model.VersionLedger`).

How an event stays cheap
------------------------
* Index rows. Each item has a fixed-width float64 row (slot, unit vector, chord of its
  radius, its current threshold, category / skill bit masks, packed small codes); copies
  of it sit in numpy "buckets": per (grid cell, kind, category bit, radius class) for
  items with a place, and per (visibility pool, tenant, kind, remote flag, category bit)
  for what remote counterparts and remote searchers need. Buckets grow by capacity
  doubling; removal is swap-remove (each row knows its position in its item's bucket
  list), so no stale rows exist and a query reads contiguous memory only.
* Query for X (vectorised). Read the buckets of the opposite kind and X's category bits:
  the pools X can see and be seen by, and the grid cells within X's radius -- skipping
  cells whose distance lower bound exceeds it, and radius classes that cannot reach that
  far. Keep spatial rows whose chord distance fits both radii. Compute for all rows a
  cheap upper bound of the score (categories, skills, a rational bound of the distance
  decay, engagement, actor type; the other factors count 1). Only rows whose bound can
  matter go through the full pre-filter (mutual visibility, requirement masks, schedule
  hour-slot masks, same actor) and the full score upper bound (exact up to float noise
  except the bit-mask bounds of skills and languages).
* Buffers. Each item Y keeps not only its top K but its top L = K + extra counterparts
  (score, slot) in fixed-width numpy rows, plus a flag "exhaustive" (the buffer holds ALL
  valid counterparts; then it is shorter than L) and its threshold thr(Y) = score of the
  last buffered entry (-inf when exhaustive). Invariant: the buffer is a prefix of Y's
  ranked counterpart list, and holds at least K entries unless exhaustive. thr(Y) is
  mirrored in Y's index rows, never above its true value (decreases are written at once,
  small increases lazily), so "can X enter Y's buffer?" is one vectorised comparison.
* Publish/update of X: X's own buffer = exact top-L, evaluating candidates with
  `rules.score` in order of decreasing bound until no remaining bound can beat the L-th
  exact score (ties are cut with an 8-byte id-prefix key). X enters the buffers of the
  counterparts whose bound reaches their threshold and whose exact score beats it (checked
  against the buffers' own last scores, then inserted into all of them with a few numpy
  gathers). Items whose buffers held the OLD X drop it (one vectorised shift over their
  buffer rows); a buffer that falls below K entries and is not exhaustive is refilled by
  one query -- only after L-K+1 losses, so it is amortised.
* Reverse index. `_rev[X]` lists the items whose buffers hold X (an int32 array per
  item), kept exact on every insert and removal of a buffer entry -- offers, drops,
  refills, recomputed buffers; bulk builds relink it in one pass. Close and update find
  X's holders there, with no index query.
* Diff. Only pairs involving X, and pairs (Y, Z) where Z entered or left topK(Y) for a
  touched Y, can change membership; the engine compares before/after for exactly those.

The final decision and score of every pair come from `rules.py` (shared with the
brute-force oracle); numpy only pre-filters with bounds that never drop a valid pair.
"""
from __future__ import annotations

import gc
import math
import multiprocessing
import os
from array import array
from bisect import insort
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable

import numpy as np

from . import rules
from .index import BitRegistry, Bucket, Grid, bits_of, chord2_threshold, chord2_to_km, unit_vector
from .model import (DEFAULT_MAX_TOMBSTONES, DEFAULT_TOMBSTONE_RETENTION_S, Diff, Item, Match, TenantInfo,
                    VersionLedger, event_seconds)
from .rules import NEED, OFFER, VIS_REGION, VIS_STATE, Prepared, TenantDirectory

__all__ = ["MatchingEngine", "Diff", "EngineState"]

_NEG_INF = -math.inf
# Upper bounds carry float noise far below 1e-9; exact scores are rounded to 1e-6, so:
# an exact score can be >= s only if bound >= s - _TIE_LOW, and > s only if bound >= s + _BEAT.
_UB_PAD = 1e-9
_TIE_LOW = 6e-7
_BEAT = 4e-7
_M64 = (1 << 64) - 1
_NEG_TENTH = -1.0 / rules.DISTANCE_SCALE_KM

_ENG = np.array(rules.ENGAGEMENT_FIT, dtype=np.float64)
_ACT = np.array(rules.ACTOR_TYPE_FIT, dtype=np.float64)

# visibility pool families of the non-spatial buckets
_S_ALL, _S_T, _N_T = 0, 1, 2

# Columns of an index row (float64; the mask columns hold raw uint64 bits, read through a
# uint64 view). Every item has one row template per slot; buckets hold copies of it.
# Bucket rows are the first _NB columns; the rest is read from the slot's template only
# for the few rows that survive the partial bound.
(C_SLOT, C_POS, C_X, C_Y, C_Z, C_CR, C_THR, C_THRK, C_CAT, C_SKILL, C_PACK,
 C_REQ, C_LANG, C_S0, C_S1, C_S2, C_ACTOR) = range(17)
_NCOL = 17
_NB = 11
# small integers packed into C_PACK
_P_TEN, _P_VIS, _P_ATYPE, _P_ENG, _P_ACC, _P_SKN, _P_SKX, _P_LANG, _P_HS, _P_SN, _P_CATX = (
    0, 16, 18, 21, 23, 24, 32, 40, 41, 42, 50)
_MAX_TENANTS = 1 << 16
_POS_WIDTH = 12
# thresholds in index rows may lag below the true value by up to this much
_THR_SLACK = 0.01
# radius classes of the spatial buckets: an item of class c has radius < _RCLASS_UPPER[c],
# so a cell whose distance lower bound reaches that limit cannot hold a match of class c.
_RCLASS_UPPER = (10.0, 25.0, math.inf)

_EMPTY_I = np.empty(0, np.int64)
_EMPTY_F = np.empty(0, np.float64)
_EMPTY_U = np.empty(0, np.uint64)
_EMPTY = (_EMPTY_I, _EMPTY_F, _EMPTY_F, _EMPTY_U)


def id_key(item_id: str) -> int:
    """First 8 UTF-8 bytes of an id as a big-endian integer: a < b for keys implies a < b
    for the ids (code point order); equal keys decide nothing."""
    return int.from_bytes(item_id.encode("utf-8")[:8].ljust(8, b"\0"), "big")


def _bulk_worker(engine: "MatchingEngine", share: list[int], sender) -> None:
    """Child process of MatchingEngine._rebuild_parallel (runs on a forked copy)."""
    gc.disable()
    before = dict(engine.counters)
    engine._rebuild_range(share, None, len(share), 1)
    s = np.array(share, np.int64)
    sender.send({
        "bslot": engine._bslot[s], "bscore": engine._bscore[s], "blen": engine._blen[s],
        "bex": engine._bex[s], "thr": engine._row[s, C_THR], "thrk": engine._rowu[s, C_THRK],
        "counters": {k: engine.counters[k] - before[k] for k in before},
    })
    sender.close()


@dataclass
class EngineState:
    """Everything an engine holds, detached from it (`MatchingEngine.export_state`), so that
    `MatchingEngine.from_state` rebuilds an engine that behaves exactly like the original.

    `parameters`: what the engine was built with (k, buffer size, grid, tombstone bounds);
    `arrays`: the numpy state (index row templates, buffers, the reverse index in CSR form,
    every bucket's members as (slot, position) pairs); `objects`: the Python structures
    (prepared items, slot and tenant tables, interned bits, the version ledger). Plain data:
    how it is written to bytes is the caller's business (services/matching/worker/snapshot.py;
    `engine/columns.py` stores the prepared items)."""

    parameters: dict
    arrays: dict[str, np.ndarray]
    objects: dict


class _Event:
    """Snapshots of top-K lists (before any change) of the items an event touches."""

    __slots__ = ("engine", "snap")

    def __init__(self, engine: "MatchingEngine"):
        self.engine = engine
        self.snap: dict[int, tuple[int, ...]] = {}

    def touch(self, y: int) -> None:
        if y not in self.snap:
            self.snap[y] = self.engine._topk(y)

    def touch_many(self, ys: list[int]) -> None:
        snap = self.snap
        new = [y for y in ys if y not in snap]
        if new:
            snap.update(self.engine._topk_many(new))


class MatchingEngine:
    """Incremental matcher keeping, per item, its top-K counterparts (see module docstring).

    `k`: K of top-K. `buffer_extra`: extra buffered counterparts per item beyond K (default
    K): more memory, fewer refills. `cell_deg`: (lat, lon) size of the grid cells in
    degrees (default ~11 x 10 km in NRW). `tombstone_retention` (event time; seconds or a
    timedelta; default 24 h) and `max_tombstones` (default 200,000) bound the removal
    tombstones that keep redeliveries of older versions out (see `model.VersionLedger`);
    events carry their time in the optional `at` of `upsert` / `remove`.
    """

    _parallel_min = 10_000  # bulk rebuilds of fewer slots stay in-process

    def __init__(
        self,
        k: int = 10,
        tenants: dict[str, TenantInfo] | None = None,
        *,
        buffer_extra: int | None = None,
        cell_deg: tuple[float, float] = (0.1, 0.15),
        tombstone_retention: timedelta | float | None = DEFAULT_TOMBSTONE_RETENTION_S,
        max_tombstones: int | None = DEFAULT_MAX_TOMBSTONES,
    ):
        if k < 1:
            raise ValueError("k must be >= 1")
        self.k = int(k)
        extra = self.k if buffer_extra is None else int(buffer_extra)
        if extra < 1:
            raise ValueError("buffer_extra must be >= 1")
        self._L = self.k + extra
        self._tenants = TenantDirectory(tenants)
        self._grid = Grid(*cell_deg)
        if isinstance(tombstone_retention, timedelta):
            tombstone_retention = tombstone_retention.total_seconds()
        self._ledger = VersionLedger(tombstone_retention, max_tombstones)
        self._catreg, self._skillreg = BitRegistry(), BitRegistry()
        self._reqreg, self._langreg = BitRegistry(), BitRegistry()
        self._actors: dict[str, int] = {}
        self._slot_of: dict[str, int] = {}
        self._prep: list[Prepared | None] = []
        self._free: list[int] = []
        self._cap = 0
        self._cb: dict[int, Bucket] = {}  # spatial buckets: (cell, kind, bit, radius class)
        self._cgroups: dict[int, list[Bucket | None]] = {}  # (cell, kind, bit) -> per radius class
        self._vb: dict[int, Bucket] = {}  # pool buckets: (tenant, family, kind, remote, bit)
        self._sync = True  # keep thresholds in bucket rows up to date (off during bulk builds)
        # tenant tables
        self._tnames: list[str] = []
        self._tcode: dict[str, int] = {}
        self._nbm = np.zeros((0, 0), np.bool_)
        self._nbm_t = self._nbm
        self._wn = np.zeros((0, 8), np.float64)
        self._uniform_w = True
        self._region_codes: list[list[int]] = []
        self._rev_region: list[set[int]] = []
        self._pool_cache: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._ea_cache: dict[tuple, np.ndarray] = {}
        self.counters = {"queries": 0, "candidates": 0, "exact": 0, "refills": 0, "tenant_rescored": 0}
        self._row = np.zeros((0, _NCOL), np.float64)
        self._rowu = self._row.view(np.uint64)
        self._pos = np.zeros((0, _POS_WIDTH), np.int32)
        self._cell = np.zeros(0, np.int64)
        self._pos_extra: dict[tuple[int, int], int] = {}
        self._blen = np.zeros(0, np.int32)
        self._bex = np.zeros(0, np.bool_)
        self._bslot = np.zeros((0, self._L), np.int32)
        self._bscore = np.zeros((0, self._L), np.float64)
        # reverse index: _rev[x] = slots of the items whose buffers hold X (int32 arrays,
        # None when empty), kept exact on every insert/remove of a buffer entry; off only
        # inside _rebuild_buffers, which relinks the rebuilt buffers in bulk.
        self._rev: list[array | None] = []
        self._track = True
        for name in self._tenants.known():
            self._tcode_of(name)
        self._grow(64)

    # ------------------------------------------------------------------ public API

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._slot_of

    def get(self, item_id: str) -> Item | None:
        x = self._slot_of.get(item_id)
        return None if x is None else self._prep[x].item

    def version_of(self, item_id: str) -> int | None:
        """The newest version applied for the item: the stored item's, or the one it was
        removed at while its tombstone is remembered (None: never seen, or pruned)."""
        x = self._slot_of.get(item_id)
        return self._prep[x].item.version if x is not None else self._ledger.tombstone(item_id)

    def upsert_tenant(self, info: TenantInfo) -> Diff:
        """Register or change a tenant; re-scores only the items the change affects.

        A tenant T enters `rules.score` twice: the NEED's tenant's weights weigh every
        factor, and T's region (T and its neighbours) decides what T's region-visible items
        see. So a pair's score or validity can change only if it has an endpoint in
        S = T's needs (weights changed) + T's region-visible items (neighbours changed and
        a tenant with items entered or left the region). Each S item is dropped from the
        buffers holding it, its own buffer is recomputed (one query, new tenant tables)
        and it is offered to its other counterparts as on a publish; buffers that fell
        below K are refilled. Every other buffer stays a prefix of its ranked list.
        `counters["tenant_rescored"]` counts the items of S."""
        tid = info.id
        old_info = self._tenants.get(tid)
        if tid in self._tenants.known() and old_info == info:
            return Diff()
        old_dir = self._tenants.copy()
        weights_changed = old_info.weights != info.weights
        border = (self._tenants.region(tid) ^ (frozenset({tid}) | info.neighbours)) & self._tcode.keys()
        affected = self._tenant_items(tid, weights_changed, bool(border))
        ev = _Event(self)
        for x in affected:
            ev.touch(x)
        for x in affected:
            for y in self._holders(x):
                ev.touch(y)
                self._remove_from(y, x)
        self._tenants.upsert(info)
        self._tcode_of(tid)
        self._rebuild_tenant_tables()
        if not affected:
            return Diff()
        self.counters["tenant_rescored"] += len(affected)
        fresh = set(affected)
        queried = []
        for x in affected:
            p = self._prep[x]
            cache: dict[int, float | None] = {}
            entries, exhaustive, found = self._query(x, p, cache, True)
            self._write_buffer(x, entries, exhaustive)
            queried.append((x, p, found, cache))
        for x, p, found, cache in queried:
            self._offer_to_counterparts(x, p, found, cache, ev, skip=fresh)
        self._refill(ev, -1)
        return self._diff_tenant(ev, fresh, old_dir, tid if weights_changed else None)

    def _tenant_items(self, tid: str, needs: bool, region: bool) -> list[int]:
        """Slots of the tenant's needs (if `needs`) and region-visible items (if `region`)."""
        code = self._tcode.get(tid)
        if code is None or not (needs or region) or not self._slot_of:
            return []
        live = np.fromiter(self._slot_of.values(), np.int64, len(self._slot_of))
        mine = live[(self._rowu[live, C_PACK] & 0xFFFF) == code]
        prep = self._prep
        out = []
        for x in sorted(mine.tolist()):
            p = prep[x]
            if (needs and p.kind == NEED) or (region and p.vis == VIS_REGION):
                out.append(x)
        return out

    def _diff_tenant(self, ev: _Event, fresh: set[int], old_dir: TenantDirectory, rescored: str | None) -> Diff:
        """Diff of a tenant change: pairs whose membership changed among the touched items'
        lists, and (weights of tenant `rescored` changed) the kept pairs of its needs."""
        prep = self._prep
        before: dict[tuple[str, str], Match] = {}
        after: dict[tuple[str, str], Match] = {}
        snap = ev.snap
        seen: set[tuple[int, int]] = set()
        for y, top_before in snap.items():
            top_after = self._topk(y)
            for z in set(top_before).union(top_after):
                key = (y, z) if y < z else (z, y)
                if key in seen:
                    continue
                seen.add(key)
                z_after = self._topk(z)
                z_before = snap.get(z, z_after)
                was = z in top_before or y in z_before
                now = z in top_after or y in z_after
                if was and now:
                    if rescored is None or not (y in fresh or z in fresh):
                        continue
                    need = prep[y] if prep[y].kind == NEED else prep[z]
                    if need.tenant != rescored:
                        continue
                if was:
                    m = rules.explain(prep[y], prep[z], old_dir)
                    before[m.pair] = m
                if now:
                    m = rules.explain(prep[y], prep[z], self._tenants)
                    after[m.pair] = m
        return Diff.between(before, after)

    def upsert(self, item: Item, *, at: datetime | float | None = None) -> Diff:
        """Publish or update an item. Versions <= the stored one are ignored (empty diff).
        `at`: the event's time (optional; ages the tombstones)."""
        if at is not None:
            self._ledger.observe(event_seconds(at))
        x = self._slot_of.get(item.id)
        old = self._prep[x] if x is not None else None
        if not self._ledger.admits_upsert(item.id, item.version, None if old is None else old.version):
            return Diff()
        p = rules.prepare(item)
        ev = _Event(self)
        holders_before: set[int] = set()
        if old is not None:
            holders = self._holders(x)
            snap_x = self._topk(x)
            ev.touch_many(holders)
            holders_before = self._drop_everywhere(x, holders)
            self._unindex(x, old)
        else:
            x = self._alloc()
            snap_x = ()
            self._slot_of[item.id] = x
        self._write_slot(x, p)
        self._index(x, p)
        cache: dict[int, float | None] = {}
        entries, exhaustive, found = self._query(x, p, cache, True)
        self._write_buffer(x, entries, exhaustive)
        self._offer_to_counterparts(x, p, found, cache, ev)
        self._refill(ev, x)
        return self._diff(x, old, p, snap_x, holders_before, ev)

    def remove(self, item_id: str, version: int | None = None, *, at: datetime | float | None = None) -> Diff:
        """Close, expire or erase an item. A version older than the stored one is ignored.
        `at`: the event's time (optional; ages the tombstones)."""
        if at is not None:
            self._ledger.observe(event_seconds(at))
        x = self._slot_of.get(item_id)
        old = self._prep[x] if x is not None else None
        if not self._ledger.admits_remove(item_id, version, None if old is None else old.version):
            return Diff()
        ev = _Event(self)
        holders = self._holders(x)
        snap_x = self._topk(x)
        ev.touch_many(holders)
        holders_before = self._drop_everywhere(x, holders)
        self._unindex(x, old)
        self._refill(ev, x)
        diff = self._diff(x, old, None, snap_x, holders_before, ev)
        self._release(x, item_id)
        return diff

    def matches_for(self, item_id: str) -> list[Match]:
        """All pairs of the match set involving the item, best first."""
        x = self._slot_of.get(item_id)
        if x is None:
            return []
        p = self._prep[x]
        ys = set(self._topk(x))
        for y in self._holders(x):
            if x in self._topk(y):
                ys.add(y)
        out = []
        for y in ys:
            m = rules.explain(p, self._prep[y], self._tenants)
            out.append((-m.score, self._prep[y].id, m))
        out.sort(key=lambda t: (t[0], t[1]))
        return [m for _, _, m in out]

    def prepared(self) -> list[Prepared]:
        """The prepared form of every stored item (e.g. to feed a baseline matcher)."""
        return [self._prep[x] for x in self._slot_of.values()]

    def top_k(self, item_id: str) -> list[tuple[str, float]]:
        """The item's own top-K counterparts: (counterpart id, score), best first."""
        x = self._slot_of.get(item_id)
        if x is None:
            return []
        n = min(self.k, int(self._blen[x]))
        return [(self._prep[y].id, s) for y, s in zip(self._bslot[x, :n].tolist(), self._bscore[x, :n].tolist())]

    def bulk_load(self, items: Iterable[Item], progress: Callable[[int, int], None] | None = None,
                  workers: int = 1) -> None:
        """Initial load or state recovery into an EMPTY engine; emits no diff.

        Builds the index in one pass, then every item's buffer (one query each).
        `progress(done, total)` is called now and then while buffers are computed.
        `workers` > 1 computes the buffers in that many processes (fork; POSIX only) --
        pure computation shared copy-on-write, results sent back over pipes.
        """
        if self._slot_of:
            raise RuntimeError("bulk_load needs an empty engine")
        latest: dict[str, Item] = {}
        for item in items:
            current = latest.get(item.id)
            if current is None or item.version > current.version:
                latest[item.id] = item
        prepared = [rules.prepare(item) for item in latest.values()]
        # slots in grid order: items of one cell get neighbouring slots (memory locality)
        grid = self._grid
        prepared.sort(key=lambda p: (p.remote, grid.cell(p.item.lat, p.item.lon), p.kind))
        # capacity headroom, so that the first publishes after a load do not pay a doubling
        self._grow(len(prepared) + len(prepared) // 4 + 1024)
        groups_c: dict[int, list[tuple[int, int]]] = {}
        groups_v: dict[int, list[tuple[int, int]]] = {}
        for p in prepared:
            x = self._alloc()
            self._slot_of[p.id] = x
            self._write_slot(x, p)
            if not p.cap_ok:
                continue
            for j, (spatial, key) in enumerate(self._bucket_keys(p)):
                (groups_c if spatial else groups_v).setdefault(key, []).append((x, j))
        for groups, buckets in ((groups_c, self._cb), (groups_v, self._vb)):
            for key, members in groups.items():
                arr = np.array(members, np.int64)
                rows = self._row[arr[:, 0], :_NB]
                rows[:, C_POS] = arr[:, 1]
                bucket = Bucket(_NB, len(rows))
                bucket.extend(rows)
                self._add_bucket(buckets is self._cb, key, bucket)
                for i, (x, j) in enumerate(members):
                    self._set_pos(x, j, i)
        self._rebuild_buffers(list(self._slot_of.values()), progress, workers)

    # ------------------------------------------------------------------ state (snapshots)

    def parameters(self) -> dict:
        """What the engine was built with; an `EngineState` fits only an engine built alike."""
        return {"k": self.k, "buffer_extra": self._L - self.k,
                "cell_deg": [self._grid.cell_lat, self._grid.cell_lon],
                "tombstone_retention_s": self._ledger._retention,
                "max_tombstones": self._ledger._max}

    def export_state(self) -> EngineState:
        """A detached copy of the whole state (call it between events). Arrays are copied
        and mutable containers flattened, so the engine may go on at once while the copy is
        written elsewhere; prepared items and tenant infos are immutable and shared."""
        cap = self._cap
        rev_lens = np.zeros(cap, np.int64)
        rev_present = np.zeros(cap, np.bool_)
        chunks = []
        for x, a in enumerate(self._rev):
            if a is not None:
                rev_present[x] = True
                rev_lens[x] = len(a)
                chunks.append(a.tobytes())
        arrays = {
            "row": self._row.copy(), "pos": self._pos.copy(), "cell": self._cell.copy(),
            "blen": self._blen.copy(), "bex": self._bex.copy(), "bslot": self._bslot.copy(),
            "bscore": self._bscore.copy(), "free": np.array(self._free, np.int64),
            "rev_lens": rev_lens, "rev_present": rev_present,
            "rev_data": np.frombuffer(b"".join(chunks), np.int32).copy(),
        }
        for name, buckets in (("cb", self._cb), ("vb", self._vb)):
            keys = list(buckets)
            arrays[f"{name}_keys"] = np.array(keys, np.int64)
            arrays[f"{name}_n"] = np.array([buckets[key].n for key in keys], np.int64)
            # A bucket row is a copy of its item's row template with the bucket's position in
            # the item's bucket list (thresholds are written to both): (slot, position) is
            # enough to rebuild it, a tenth of its bytes.
            parts = [buckets[key].data[: buckets[key].n, C_SLOT:C_POS + 1] for key in keys]
            members = np.concatenate(parts) if parts else np.zeros((0, 2))
            arrays[f"{name}_members"] = members.astype(np.int32)
        ledger = self._ledger
        objects = {
            "tenants": list(self._tenants._infos.values()),
            "tnames": list(self._tnames),
            "registries": [dict(r._ids) for r in (self._catreg, self._skillreg, self._reqreg, self._langreg)],
            "actors": dict(self._actors),
            "slot_of": dict(self._slot_of),
            "prep": list(self._prep),
            "pos_extra": dict(self._pos_extra),
            "tombstones": list(ledger._tombstones.items()),
            "watermark": ledger._now,
            "counters": dict(self.counters),
        }
        return EngineState(self.parameters(), arrays, objects)

    @classmethod
    def from_state(cls, state: EngineState) -> "MatchingEngine":
        """The engine `state` was exported from, as it was then (same answers, same diffs
        for the events that follow)."""
        params, arrays, objects = state.parameters, state.arrays, state.objects
        engine = cls(k=params["k"], buffer_extra=params["buffer_extra"],
                     cell_deg=tuple(params["cell_deg"]),
                     tombstone_retention=params["tombstone_retention_s"],
                     max_tombstones=params["max_tombstones"])
        engine._tenants = TenantDirectory(objects["tenants"])
        engine._tnames = list(objects["tnames"])
        engine._tcode = {name: code for code, name in enumerate(engine._tnames)}
        engine._rebuild_tenant_tables()
        for registry, ids in zip((engine._catreg, engine._skillreg, engine._reqreg, engine._langreg),
                                 objects["registries"]):
            registry._ids = dict(ids)
        engine._actors = objects["actors"]
        engine._slot_of = objects["slot_of"]
        engine._prep = objects["prep"]
        engine._pos_extra = objects["pos_extra"]
        engine._free = arrays["free"].tolist()
        engine._row = arrays["row"]
        engine._rowu = engine._row.view(np.uint64)
        engine._pos, engine._cell = arrays["pos"], arrays["cell"]
        engine._blen, engine._bex = arrays["blen"], arrays["bex"]
        engine._bslot, engine._bscore = arrays["bslot"], arrays["bscore"]
        engine._cap = len(engine._row)
        if not (len(engine._prep) == len(engine._blen) == engine._cap):
            raise ValueError("inconsistent engine state: slot tables of different lengths")
        rev: list[array | None] = [None] * engine._cap
        data = arrays["rev_data"].astype(np.int32, copy=False).tobytes()
        ends = np.cumsum(arrays["rev_lens"]).tolist()
        starts = [0] + ends[:-1]
        for x in np.flatnonzero(arrays["rev_present"]).tolist():
            a = rev[x] = array("i")
            a.frombytes(data[4 * starts[x]: 4 * ends[x]])
        engine._rev = rev
        engine._cb, engine._cgroups, engine._vb = {}, {}, {}
        for name, spatial in (("cb", True), ("vb", False)):
            members = arrays[f"{name}_members"]
            rows = engine._row[members[:, 0], :_NB]
            rows[:, C_POS] = members[:, 1]
            start = 0
            for key, n in zip(arrays[f"{name}_keys"].tolist(), arrays[f"{name}_n"].tolist()):
                bucket = Bucket(_NB, 1)
                # a view of the concatenated rows: appends beyond it grow into a new array
                bucket.data = rows[start: start + n] if n else bucket.data
                bucket.n = n
                start += n
                engine._add_bucket(spatial, key, bucket)
        ledger = engine._ledger
        ledger._tombstones = OrderedDict(objects["tombstones"])
        ledger._now = objects["watermark"]
        engine.counters = dict(objects["counters"])
        return engine

    def memory_bytes(self) -> int:
        """Bytes held by the arrays of the engine (rows, buffers, buckets, reverse index;
        the reverse index counted with its arrays' headers)."""
        total = sum(a.nbytes for a in (self._row, self._pos, self._blen, self._bex, self._bslot, self._bscore))
        total += sum(b.nbytes() for b in self._cb.values()) + sum(b.nbytes() for b in self._vb.values())
        total += sum(64 + a.buffer_info()[1] * a.itemsize for a in self._rev if a is not None)
        return total

    # ------------------------------------------------------------------ slots

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = max(need, 2 * self._cap, 64)
        n = self._cap

        def grown(old: np.ndarray, fill=0) -> np.ndarray:
            new = np.full((cap,) + old.shape[1:], fill, old.dtype)
            new[:n] = old[:n]
            return new

        self._row = grown(self._row)
        self._rowu = self._row.view(np.uint64)
        self._pos = grown(self._pos, -1)
        self._cell = grown(self._cell)
        self._blen = grown(self._blen)
        self._bex = grown(self._bex, True)
        self._bslot = grown(self._bslot, -1)
        self._bscore = grown(self._bscore)
        self._prep.extend([None] * (cap - n))
        self._rev.extend([None] * (cap - n))
        self._free.extend(range(cap - 1, n - 1, -1))
        self._cap = cap

    def _alloc(self) -> int:
        if not self._free:
            self._grow(self._cap + 1)
        return self._free.pop()

    def _release(self, x: int, item_id: str) -> None:
        self._unlink_buffer(x)
        self._rev[x] = None  # every holder dropped X before
        self._prep[x] = None
        del self._slot_of[item_id]
        self._blen[x] = 0
        self._bex[x] = True
        self._bslot[x] = -1
        self._free.append(x)

    def _pack(self, p: Prepared, tcode: int, catx: int, skx: int) -> int:
        skn = len(p.skills)
        if skn > 255 or skx > 255:
            skn = skx = 0  # the need-side skills bound then falls back to 1.0
        return (
            tcode << _P_TEN | p.vis << _P_VIS | p.atype << _P_ATYPE | p.eng << _P_ENG
            | int(p.accessible) << _P_ACC | skn << _P_SKN | skx << _P_SKX
            | int(bool(p.langs)) << _P_LANG | int(p.has_sched) << _P_HS | p.nslots << _P_SN
            | int(catx > 0) << _P_CATX
        )

    def _write_slot(self, x: int, p: Prepared) -> None:
        """Store the item's prepared form and its index row template; reset its buffer."""
        self._unlink_buffer(x)
        self._prep[x] = p
        self._cell[x] = self._grid.cell(p.item.lat, p.item.lon)
        actor = self._actors.get(p.actor_id)
        if actor is None:
            actor = self._actors[p.actor_id] = len(self._actors)
        tcode = self._tcode_of(p.tenant)
        cat, catx = self._catreg.mask(p.cats)
        skill, skx = self._skillreg.mask(p.skills)
        row = self._row[x]
        rowu = self._rowu[x]
        row[C_SLOT] = x
        row[C_POS] = -1
        row[C_X:C_CR + 1] = unit_vector(p.lat, p.lon, p.coslat) + (chord2_threshold(p.radius),)
        row[C_THR] = _NEG_INF
        slots = p.slots
        rowu[C_THRK:C_REQ] = (0, cat, skill, self._pack(p, tcode, catx, skx))
        rowu[C_REQ:] = (
            self._reqreg.mask(p.reqs)[0], self._langreg.mask(p.langs)[0],
            slots & _M64, (slots >> 64) & _M64, slots >> 128, actor,
        )
        self._blen[x] = 0
        self._bex[x] = True
        self._bslot[x] = -1

    # ------------------------------------------------------------------ tenants

    @staticmethod
    def _normalised(weights: tuple[float, ...]) -> np.ndarray:
        w = np.array(weights, np.float64)
        return w / math.fsum(weights)

    def _tcode_of(self, name: str) -> int:
        code = self._tcode.get(name)
        if code is None:
            code = len(self._tnames)
            if code >= _MAX_TENANTS:
                raise ValueError(f"more than {_MAX_TENANTS} tenants are not supported")
            self._tcode[name] = code
            self._tnames.append(name)
            self._rebuild_tenant_tables()
        return code

    def _rebuild_tenant_tables(self) -> None:
        T = len(self._tnames)
        nbm = np.zeros((T, T), np.bool_)
        wn = np.zeros((T, 8), np.float64)
        for a, name in enumerate(self._tnames):
            for nb in self._tenants.region(name):
                c = self._tcode.get(nb)
                if c is not None:
                    nbm[a, c] = True
            wn[a] = self._normalised(self._tenants.weights(name)[0])
        self._nbm, self._wn = nbm, wn
        self._nbm_t = np.ascontiguousarray(nbm.T)
        self._uniform_w = bool(T == 0 or np.all(wn == wn[0]))
        self._region_codes = [np.flatnonzero(nbm[a]).tolist() for a in range(T)]
        self._rev_region = [set(np.flatnonzero(nbm[:, a]).tolist()) for a in range(T)]
        self._pool_cache.clear()
        self._ea_cache.clear()

    def _pools(self, vis: int, t: int) -> list[tuple[int, int]]:
        """(family, tenant code) of the pool buckets holding every item X may see and be seen by."""
        key = (vis, t)
        pools = self._pool_cache.get(key)
        if pools is None:
            rev = self._rev_region[t]
            if vis == VIS_STATE:
                pools = [(_S_ALL, -1)] + [(_N_T, u) for u in sorted(rev)]
            elif vis == VIS_REGION:
                region = self._region_codes[t]
                pools = [(_S_T, u) for u in region] + [(_N_T, u) for u in region if u in rev]
            else:
                pools = [(_S_T, t), (_N_T, t)]
            self._pool_cache[key] = pools
        return pools

    # ------------------------------------------------------------------ index

    def _bucket_keys(self, p: Prepared, x: int | None = None) -> list[tuple[bool, int]]:
        """(spatial?, key) of every bucket an item belongs to, in a fixed order. With its slot
        x, the category mask and the cell are read from the slot (which must hold p)."""
        if x is None:
            bits = bits_of(self._catreg.mask(p.cats)[0])
            cell = self._grid.cell(p.item.lat, p.item.lon)
        else:
            bits = bits_of(int(self._rowu[x, C_CAT]))
            cell = int(self._cell[x])
        kind = p.kind
        keys: list[tuple[bool, int]] = []
        if not p.remote:
            base = (cell * 2 + kind) * 64
            rclass = 0 if p.radius < _RCLASS_UPPER[0] else (1 if p.radius < _RCLASS_UPPER[1] else 2)
            keys.extend((True, (base + b) * 3 + rclass) for b in bits)
        t = self._tcode_of(p.tenant)
        remote = 1 if p.remote else 0
        if p.vis == VIS_STATE:
            fams = ((_S_ALL, -1), (_S_T, t))
        else:
            fams = ((_N_T, t),)
        for fam, u in fams:
            base = ((((u + 1) * 3 + fam) * 2 + kind) * 2 + remote) * 64
            keys.extend((False, base + b) for b in bits)
        return keys

    def _get_pos(self, x: int, j: int) -> int:
        return int(self._pos[x, j]) if j < _POS_WIDTH else self._pos_extra[(x, j)]

    def _set_pos(self, x: int, j: int, i: int) -> None:
        if j < _POS_WIDTH:
            self._pos[x, j] = i
        else:
            self._pos_extra[(x, j)] = i

    def _index(self, x: int, p: Prepared) -> None:
        """Add the item's rows to its buckets (items without capacity match nothing)."""
        if not p.cap_ok:
            return
        row = self._row[x, :_NB]
        for j, (spatial, key) in enumerate(self._bucket_keys(p, x)):
            bucket = (self._cb if spatial else self._vb).get(key)
            if bucket is None:
                bucket = self._add_bucket(spatial, key, Bucket(_NB))
            row[C_POS] = j
            self._set_pos(x, j, bucket.append(row))
        row[C_POS] = -1

    def _add_bucket(self, spatial: bool, key: int, bucket: Bucket) -> Bucket:
        if spatial:
            self._cb[key] = bucket
            group = self._cgroups.setdefault(key // 3, [None, None, None])
            group[key % 3] = bucket
        else:
            self._vb[key] = bucket
        return bucket

    def _unindex(self, x: int, p: Prepared) -> None:
        if not p.cap_ok:
            return
        for j, (spatial, key) in enumerate(self._bucket_keys(p, x)):
            moved = (self._cb if spatial else self._vb)[key].remove(self._get_pos(x, j))
            if moved is not None:
                self._set_pos(moved[0], moved[1], self._get_pos(x, j))
            if j >= _POS_WIDTH:
                del self._pos_extra[(x, j)]
        self._pos[x] = -1

    def _store_threshold(self, y: int, thr: float, thrk: int) -> None:
        self._row[y, C_THR] = thr
        self._rowu[y, C_THRK] = thrk
        if not self._sync:
            return
        p = self._prep[y]
        if not p.cap_ok:
            return
        for j, (spatial, key) in enumerate(self._bucket_keys(p, x=y)):
            data = (self._cb if spatial else self._vb)[key].data
            i = self._get_pos(y, j)
            data[i, C_THR] = thr
            data.view(np.uint64)[i, C_THRK] = thrk

    def _sync_thresholds(self) -> None:
        """Copy every slot's threshold into its bucket rows (after a bulk build)."""
        row, rowu = self._row, self._rowu
        for buckets in (self._cb, self._vb):
            for bucket in buckets.values():
                data = bucket.data[: bucket.n]
                s = data[:, C_SLOT].astype(np.int64)
                data[:, C_THR] = row[s, C_THR]
                data.view(np.uint64)[:, C_THRK] = rowu[s, C_THRK]

    def _rebuild_buffers(self, slots: list[int], progress: Callable[[int, int], None] | None = None,
                         workers: int = 1) -> None:
        """Recompute the buffers of the given slots from scratch (no diff)."""
        every = len(slots) == len(self._slot_of)
        if not every:
            for y in slots:
                self._unlink_buffer(y)
        self._sync = False
        self._track = False
        try:
            if workers > 1 and len(slots) >= self._parallel_min and hasattr(os, "fork"):
                self._rebuild_parallel(slots, progress, workers)
            else:
                self._rebuild_range(slots, progress, len(slots), 1)
        finally:
            self._sync = True
            self._track = True
        self._link_all(None if every else slots)
        self._sync_thresholds()

    def _rebuild_range(self, slots: list[int], progress, total: int, scale: int) -> None:
        step = max(1, len(slots) // 200)
        for i, x in enumerate(slots):
            self._compute_buffer(x)
            if progress is not None and (i % step == 0 or i == len(slots) - 1):
                progress(min(total, (i + 1) * scale), total)

    def _rebuild_parallel(self, slots: list[int], progress, workers: int) -> None:
        """Fork workers that share the index copy-on-write; each computes the buffers of an
        interleaved share of the slots and sends the rows back through a pipe."""
        ctx = multiprocessing.get_context("fork")
        shares = [slots[i::workers] for i in range(workers)]
        children = []
        gc.collect()
        gc.freeze()  # keep the children's garbage collector off the shared heap pages
        try:
            for share in shares[1:]:
                receiver, sender = ctx.Pipe(duplex=False)
                child = ctx.Process(target=_bulk_worker, args=(self, share, sender), daemon=True)
                child.start()
                sender.close()
                children.append((child, receiver, share))
            self._rebuild_range(shares[0], progress, len(slots), workers)
            for child, receiver, share in children:
                payload = receiver.recv()
                s = np.array(share, np.int64)
                self._bslot[s] = payload["bslot"]
                self._bscore[s] = payload["bscore"]
                self._blen[s] = payload["blen"]
                self._bex[s] = payload["bex"]
                self._row[s, C_THR] = payload["thr"]
                self._rowu[s, C_THRK] = payload["thrk"]
                for key, value in payload["counters"].items():
                    self.counters[key] += value
                receiver.close()
                child.join()
                if child.exitcode != 0:
                    raise RuntimeError(f"bulk worker failed with exit code {child.exitcode}")
        finally:
            gc.unfreeze()
            for child, _, _ in children:
                if child.is_alive():
                    child.kill()

    # ------------------------------------------------------------------ candidates

    def _raw(self, x: int, p: Prepared, rf: list, ru: list):
        """Raw stage of a query for X: index rows of the opposite kind sharing a category bit
        with X, from the pool buckets X may see and from the grid cells (and radius classes)
        geometrically within reach; spatial rows are kept only if the chord distance fits
        both radii. Returns (rows, chord2 per row or None, dedupe masks or None) or None.
        Pool rows come first and have chord2 = -1 (no distance)."""
        bits = bits_of(ru[C_CAT])
        if not bits:
            return None
        self.counters["queries"] += 1
        ky = 1 - p.kind
        multi = len(bits) > 1
        bl = []
        acc = 0
        for b in bits:
            bl.append((b, acc))
            acc |= 1 << b
        tx = ru[C_PACK] & 0xFFFF
        parts: list[np.ndarray] = []
        plow: list[int] = []
        vb = self._vb
        for fam, u in self._pools(p.vis, tx):
            for r in ((1, 0) if p.remote else (1,)):
                base = ((((u + 1) * 3 + fam) * 2 + ky) * 2 + r) * 64
                for b, low in bl:
                    bucket = vb.get(base + b)
                    if bucket is not None and bucket.n:
                        parts.append(bucket.data[: bucket.n])
                        plow.append(low)
        npool = len(parts)
        C2 = LOW = None
        if not p.remote:
            sparts: list[np.ndarray] = []
            slow: list[int] = []
            groups = self._cgroups
            u0, u1 = _RCLASS_UPPER[0], _RCLASS_UPPER[1]
            for cell, dmin in self._grid.cells_near(p.item.lat, p.item.lon, p.radius):
                first = 0 if dmin < u0 else (1 if dmin < u1 else 2)
                base = (cell * 2 + ky) * 64
                for b, low in bl:
                    group = groups.get(base + b)
                    if group is None:
                        continue
                    for bucket in group[first:] if first else group:
                        if bucket is not None and bucket.n:
                            sparts.append(bucket.data[: bucket.n])
                            slow.append(low)
            if sparts:
                R = np.concatenate(sparts) if len(sparts) > 1 else sparts[0]
                dx = R[:, C_X] - rf[C_X]
                dy = R[:, C_Y] - rf[C_Y]
                dz = R[:, C_Z] - rf[C_Z]
                c2 = dx * dx
                c2 += dy * dy
                c2 += dz * dz
                near = np.flatnonzero(c2 <= np.minimum(R[:, C_CR], rf[C_CR]))
                if len(near):
                    parts.append(R[near])
                    c2 = c2[near]
                    pool_n = sum(len(a) for a in parts[:npool])
                    C2 = np.concatenate((np.full(pool_n, -1.0), c2)) if pool_n else c2
                    if multi:
                        slow_all = np.repeat(np.array(slow, np.uint64), [len(a) for a in sparts])[near]
                        if pool_n:
                            plow_all = np.repeat(np.array(plow, np.uint64), [len(a) for a in parts[:npool]])
                            LOW = np.concatenate((plow_all, slow_all))
                        else:
                            LOW = slow_all
        if not parts:
            return None
        if multi and LOW is None:
            LOW = np.repeat(np.array(plow, np.uint64), [len(a) for a in parts[:npool]])
        M = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return M, C2, LOW

    def _weights(self, p: Prepared, tx: int, pk: np.ndarray):
        if p.kind == NEED:
            return self._wn[tx].tolist()
        if self._uniform_w:
            return self._wn[0].tolist()
        return self._wn[(pk & 0xFFFF).astype(np.intp)].T

    def _partial_bound(self, p: Prepared, ru: list, M: np.ndarray, C2: np.ndarray | None) -> np.ndarray:
        """A cheap upper bound of the score of every raw row: categories, skills, a rational
        bound of the distance decay, engagement and actor type; the other factors count 1."""
        MU = M.view(np.uint64)
        pk = MU[:, C_PACK]
        cat = MU[:, C_CAT]
        xcat = ru[C_CAT]
        f_cat = np.bitwise_count(cat & xcat) / np.bitwise_count(cat | xcat)
        if not self._catreg.exact:
            f_cat = np.where((((pk >> _P_CATX) & 1) != 0) | (((ru[C_PACK] >> _P_CATX) & 1) != 0), 1.0, f_cat)
        f_sk = self._skill_factor(p, ru, MU, pk)
        if C2 is None:
            f_dist = 1.0
        else:
            # d >= R * chord and exp(-t) <= 1 / (1 + t + t^2/2 + t^3/6) for t >= 0
            t = np.sqrt(np.maximum(C2, 0.0)) * (rules.EARTH_RADIUS_KM / rules.DISTANCE_SCALE_KM)
            f_dist = 1.0 / (1.0 + t * (1.0 + t * (0.5 + t * (1.0 / 6.0))))
        tx = ru[C_PACK] & 0xFFFF
        w = self._weights(p, tx, pk)
        code = ((pk >> _P_ATYPE) & 31).astype(np.intp)  # actor type (3 bits) + 8 * engagement
        if isinstance(w, list):
            pub = self._eng_act_table(p, tx)[code]
        else:
            table_e = _ENG[p.eng] if p.kind == OFFER else _ENG[:, p.eng]
            table_a = _ACT[p.atype] if p.kind == OFFER else _ACT[:, p.atype]
            pub = w[4] * table_e[code >> 3] + w[7] * table_a[code & 7]
        pub += w[0] * f_cat
        pub += w[1] * f_sk
        pub += w[2] * f_dist
        pub += w[3] + w[5] + w[6] + _UB_PAD
        return pub

    def _eng_act_table(self, p: Prepared, tx: int) -> np.ndarray:
        """w_engagement * engagement fit + w_actor * actor fit for every packed code
        (actor type + 8 * engagement) of a counterpart, with X's scalar weights."""
        key = (p.kind, p.eng, p.atype, tx if p.kind == NEED else -1)
        table = self._ea_cache.get(key)
        if table is None:
            w = self._weights(p, tx, None)
            table_e = _ENG[p.eng] if p.kind == OFFER else _ENG[:, p.eng]
            table_a = _ACT[p.atype] if p.kind == OFFER else _ACT[:, p.atype]
            grid = np.zeros((4, 8))
            grid[:3, :5] = w[4] * table_e[:, None] + w[7] * table_a[None, :]
            table = self._ea_cache[key] = grid.ravel()
        return table

    def _skill_factor(self, p: Prepared, ru: list, MU: np.ndarray, pk: np.ndarray):
        if p.kind == OFFER:
            skn = (pk >> _P_SKN) & 0xFF
            inter = np.bitwise_count(MU[:, C_SKILL] & ru[C_SKILL]) + ((pk >> _P_SKX) & 0xFF)
            return np.where(skn == 0, 1.0, np.minimum(1.0, inter / np.maximum(skn, 1)))
        if not p.skills:
            return 1.0
        skx = self._skillreg.mask(p.skills)[1]
        inter = np.bitwise_count(MU[:, C_SKILL] & ru[C_SKILL]) + skx
        return np.minimum(1.0, inter / len(p.skills))

    def _full(self, p: Prepared, ru: list, M: np.ndarray, C2: np.ndarray | None, LOW: np.ndarray | None):
        """Hard-constraint pre-filter and full score upper bound of the given rows:
        (slots, bounds, thresholds, threshold id keys) of the rows that pass."""
        if not len(M):
            return _EMPTY
        S = M[:, C_SLOT].astype(np.int64)
        MU = self._rowu[S]  # full template rows (requirements, languages, schedule, actor)
        pk = MU[:, C_PACK]
        tx = ru[C_PACK] & 0xFFFF
        keep = MU[:, C_ACTOR] != ru[C_ACTOR]
        if LOW is not None:
            keep &= (MU[:, C_CAT] & LOW) == 0
        ten = (pk & 0xFFFF).astype(np.intp)
        vis = (pk >> _P_VIS) & 3
        if p.vis == VIS_REGION:
            keep &= self._nbm[tx][ten]
        elif p.vis != VIS_STATE:
            keep &= ten == tx
        keep &= (vis == VIS_STATE) | (ten == tx) | ((vis == VIS_REGION) & self._nbm_t[tx][ten])
        xreq = ru[C_REQ]
        if p.kind == OFFER:
            keep &= (MU[:, C_REQ] & (xreq ^ _M64)) == 0
        elif xreq:
            keep &= (~MU[:, C_REQ] & xreq) == 0
        if p.has_sched:
            overlap = np.bitwise_count(MU[:, C_S0] & ru[C_S0]).astype(np.int16)
            overlap += np.bitwise_count(MU[:, C_S1] & ru[C_S1])
            overlap += np.bitwise_count(MU[:, C_S2] & ru[C_S2])
            hs = (pk >> _P_HS) & 1
            keep &= (hs == 0) | (overlap > 0)
        idx = np.flatnonzero(keep)
        if len(idx) == 0:
            return _EMPTY
        if len(idx) < len(M):
            M = M[idx]
            S = S[idx]
            MU = MU[idx]
            pk = MU[:, C_PACK]
            if C2 is not None:
                C2 = C2[idx]
            if p.has_sched:
                overlap = overlap[idx]
                hs = hs[idx]
        n = len(M)
        self.counters["candidates"] += n
        cat = MU[:, C_CAT]
        xcat = ru[C_CAT]
        f_cat = np.bitwise_count(cat & xcat) / np.bitwise_count(cat | xcat)
        if not self._catreg.exact:
            f_cat = np.where((((pk >> _P_CATX) & 1) != 0) | (((ru[C_PACK] >> _P_CATX) & 1) != 0), 1.0, f_cat)
        f_sk = self._skill_factor(p, ru, MU, pk)
        if C2 is None:
            f_dist = 1.0
        else:
            f_dist = np.exp(chord2_to_km(np.maximum(C2, 0.0)) * _NEG_TENTH)
            pool_rows = C2 < 0.0
            if pool_rows.any():
                f_dist[pool_rows] = 1.0
        if p.has_sched:
            sn = (pk >> _P_SN) & 0xFF
            f_sched = np.where(hs != 0, overlap / np.maximum(np.minimum(sn, p.nslots), 1), 1.0)
        else:
            f_sched = 1.0
        eng = ((pk >> _P_ENG) & 3).astype(np.intp)
        atype = ((pk >> _P_ATYPE) & 7).astype(np.intp)
        acc = (pk >> _P_ACC) & 1
        if p.kind == OFFER:
            f_eng = _ENG[p.eng][eng]
            f_act = _ACT[p.atype][atype]
            f_acc = 1.0 if p.accessible else (1 - acc).astype(np.float64)
        else:
            f_eng = _ENG[:, p.eng][eng]
            f_act = _ACT[:, p.atype][atype]
            f_acc = acc.astype(np.float64) if p.accessible else 1.0
        if p.langs:
            f_lang = ((((pk >> _P_LANG) & 1) == 0) | ((MU[:, C_LANG] & ru[C_LANG]) != 0)).astype(np.float64)
        else:
            f_lang = 1.0
        w = self._weights(p, tx, pk)
        ub = w[0] * f_cat
        ub += w[1] * f_sk
        ub += w[2] * f_dist
        ub += w[3] * f_sched
        ub += w[4] * f_eng
        ub += w[5] * f_lang
        ub += w[6] * f_acc
        ub += w[7] * f_act + _UB_PAD
        if np.ndim(ub) == 0:
            ub = np.full(n, float(ub))
        return S, ub, M[:, C_THR], M.view(np.uint64)[:, C_THRK]

    def _query(self, x: int, p: Prepared, cache: dict[int, float | None], reverse: bool):
        """X's exact top-L ([(-score, id, slot)], exhaustive) and, when `reverse`, the
        candidates (slots, bounds, thresholds, id keys) whose buffers X may enter.

        Rows are taken in chunks of decreasing partial bound: first the best ones (and,
        for `reverse`, every row whose partial bound reaches its threshold), then, once an
        L-th exact score s_L is known, only remaining rows whose partial bound reaches s_L
        (chunks grow 4x). Rows left out provably cannot change the result."""
        if not p.cap_ok:
            return [], True, []
        rf = self._row[x].tolist()
        ru = self._rowu[x].tolist()
        raw = self._raw(x, p, rf, ru)
        if raw is None:
            return [], True, []
        M, C2, LOW = raw
        pub = self._partial_bound(p, ru, M, C2)
        n = len(M)
        L = self._L
        chunk = 4 * L + 32
        todo = np.ones(n, np.bool_)
        found = []
        res: list[tuple[float, str, int]] = []
        first = True
        while True:
            if first:
                if n <= chunk:
                    take = todo.copy()
                else:
                    take = np.zeros(n, np.bool_)
                    take[np.argpartition(-pub, chunk - 1)[:chunk]] = True
                    if reverse:
                        take |= pub >= M[:, C_THR] - _TIE_LOW
                first = False
            else:
                tau = -res[L - 1][0] - _TIE_LOW if len(res) >= L else _NEG_INF
                left = np.flatnonzero(todo & (pub >= tau))
                if not len(left):
                    break
                chunk *= 4
                take = np.zeros(n, np.bool_)
                if len(left) <= chunk:
                    take[left] = True
                else:
                    take[left[np.argpartition(-pub[left], chunk - 1)[:chunk]]] = True
            todo &= ~take
            idx = np.flatnonzero(take)
            cand = self._full(p, ru, M[idx], None if C2 is None else C2[idx], None if LOW is None else LOW[idx])
            found.append(cand)
            self._select(p, cand[0], cand[1], cache, res)
            if not todo.any():
                break
        return res, len(res) < L, found

    def _select(self, p: Prepared, S: np.ndarray, ub: np.ndarray, cache: dict[int, float | None],
                res: list[tuple[float, str, int]]) -> None:
        """Merge candidates into res, X's exact top-L [(-score, id, slot)]: evaluate them with
        rules.score in order of decreasing bound while a bound can still beat the L-th."""
        n = len(S)
        if n == 0:
            return
        L = self._L
        prep = self._prep
        m = min(n, 2 * L + 16)
        if m < n:
            part = np.argpartition(-ub, m - 1)[:m]
            chunks = [part[np.argsort(-ub[part], kind="stable")]]
        else:
            chunks = [np.argsort(-ub, kind="stable")]
            part = None
        stopped = False
        ci = 0
        key_last = 0
        while ci < len(chunks):
            order = chunks[ci]
            ci += 1
            for u, y in zip(ub[order].tolist(), S[order].tolist()):
                if len(res) >= L:
                    last = res[L - 1]
                    s_last = -last[0]
                    if u < s_last - _TIE_LOW:
                        stopped = True
                        break
                    if u < s_last + _BEAT:
                        if key_last == 0:
                            key_last = id_key(last[1])
                        if id_key(prep[y].id) > key_last:
                            continue
                s = self._exact(p, y, cache)
                if s is None:
                    continue
                insort(res, (-s, prep[y].id, y))
                if len(res) > L:
                    res.pop()
                    key_last = 0
            if stopped:
                break
            if part is not None and ci == 1:
                rest_mask = np.ones(n, np.bool_)
                rest_mask[part] = False
                rest = np.flatnonzero(rest_mask)
                chunks.append(rest[np.argsort(-ub[rest], kind="stable")])

    # ------------------------------------------------------------------ buffers

    def _exact(self, p: Prepared, y: int, cache: dict[int, float | None]) -> float | None:
        if y in cache:
            return cache[y]
        self.counters["exact"] += 1
        s = rules.score(p, self._prep[y], self._tenants)
        cache[y] = s
        return s

    def _write_buffer(self, y: int, res: list[tuple[float, str, int]], exhaustive: bool) -> None:
        n = len(res)
        row_s = self._bslot[y]
        if self._track:
            old = row_s[: self._blen[y]].tolist()
            new = [r[2] for r in res]
            if old != new:
                so, sn = set(old), set(new)
                rev = self._rev
                for z in so - sn:
                    rev[z].remove(y)
                for z in sn - so:
                    a = rev[z]
                    if a is None:
                        rev[z] = array("i", (y,))
                    else:
                        a.append(y)
        row_s[:] = -1
        if n:
            row_s[:n] = [r[2] for r in res]
            self._bscore[y, :n] = [-r[0] for r in res]
        self._blen[y] = n
        self._bex[y] = exhaustive
        self._set_thr(y)

    def _set_thr(self, y: int) -> None:
        """Publish Y's threshold to its index rows. The rows may lag BELOW the true value
        (that only lets more rows through the vectorised pre-selections), never above: a
        decrease is written at once, an increase only when it exceeds _THR_SLACK."""
        n = int(self._blen[y])
        if self._bex[y] or n == 0:
            thr, key = _NEG_INF, 0
        else:
            thr = float(self._bscore[y, n - 1])
            key = id_key(self._prep[int(self._bslot[y, n - 1])].id)
        old = self._row[y, C_THR]
        if thr < old or thr > old + _THR_SLACK or (thr == old and key > int(self._rowu[y, C_THRK])):
            self._store_threshold(y, thr, key)

    def _compute_buffer(self, y: int) -> None:
        res, exhaustive, _ = self._query(y, self._prep[y], {}, False)
        self._write_buffer(y, res, exhaustive)

    def _topk(self, y: int) -> tuple[int, ...]:
        n = min(self.k, int(self._blen[y]))
        return tuple(self._bslot[y, :n].tolist())

    def _topk_many(self, ys: list[int]) -> dict[int, tuple[int, ...]]:
        """_topk of many slots with one gather (entries past a buffer's length are -1)."""
        if len(ys) < 8:
            return {y: self._topk(y) for y in ys}
        K = self.k
        rows = self._bslot[ys, :K].tolist()
        out = {}
        for y, row in zip(ys, rows):
            if row[-1] < 0:
                row = row[: row.index(-1)]
            out[y] = tuple(row)
        return out

    def _drop_everywhere(self, x: int, holders: list[int]) -> set[int]:
        """Remove X from the buffers of all its holders (vectorised); returns the holders
        that had X in their top K."""
        if len(holders) < 8:
            K = self.k
            had = set()
            for y in holders:
                if self._bslot[y, :K].tolist().count(x):
                    had.add(y)
                self._remove_from(y, x)
            return had
        H = np.array(holders, np.int64)
        B = self._bslot[H]
        hit = B == x
        pos = hit.argmax(axis=1)
        n_old = self._blen[H].astype(np.int64)
        m, L = len(H), self._L
        keep = ~hit
        self._bslot[H, : L - 1] = B[keep].reshape(m, L - 1)
        self._bslot[H, L - 1] = -1
        self._bscore[H, : L - 1] = self._bscore[H][keep].reshape(m, L - 1)
        self._blen[H] = n_old - 1
        self._rev[x] = None
        # a threshold can change only where X was the last entry (or the buffer emptied)
        for y in H[pos == n_old - 1].tolist():
            self._set_thr(y)
        return set(H[pos < self.k].tolist())

    def _remove_from(self, y: int, x: int) -> None:
        n = int(self._blen[y])
        i = self._bslot[y, :n].tolist().index(x)
        if i < n - 1:
            self._bslot[y, i : n - 1] = self._bslot[y, i + 1 : n].copy()
            self._bscore[y, i : n - 1] = self._bscore[y, i + 1 : n].copy()
        self._bslot[y, n - 1] = -1
        self._blen[y] = n - 1
        self._rev[x].remove(y)
        self._set_thr(y)

    def _offer(self, y: int, x: int, xid: str, s: float, ev: _Event) -> None:
        """X (valid, exact score s) is a counterpart of Y: insert it if it belongs in Y's buffer."""
        n = int(self._blen[y])
        exhaustive = bool(self._bex[y])
        prep = self._prep
        if not exhaustive:
            if n == 0:
                ev.touch(y)  # needs a refill anyway
                return
            last_s = float(self._bscore[y, n - 1])
            if s < last_s or (s == last_s and xid > prep[int(self._bslot[y, n - 1])].id):
                return
        ev.touch(y)
        scores = self._bscore[y, :n].tolist()
        slots = self._bslot[y, :n].tolist()
        i = 0
        while i < n and (scores[i] > s or (scores[i] == s and prep[slots[i]].id < xid)):
            i += 1
        scores.insert(i, s)
        slots.insert(i, x)
        L = self._L
        rev = self._rev
        if len(slots) > L:
            scores.pop()
            rev[slots.pop()].remove(y)
        a = rev[x]
        if a is None:
            rev[x] = array("i", (y,))
        else:
            a.append(y)
        m = len(slots)
        self._bslot[y, :m] = slots
        self._bscore[y, :m] = scores
        self._blen[y] = m
        if exhaustive and m >= L:
            self._bex[y] = False
        self._set_thr(y)

    def _offer_to_counterparts(self, x: int, p: Prepared, found: list, cache: dict[int, float | None],
                               ev: _Event, skip: set[int] | None = None) -> None:
        """Insert X into the buffers of the counterparts it now belongs to (`found` from
        X's query, taken before any of these buffers changed in this event), except those
        in `skip` (buffers recomputed in this event)."""
        kx = id_key(p.id)
        for S, ub, thr, thrk in found:
            if not len(S):
                continue
            maybe = np.flatnonzero((ub >= thr + _BEAT) | ((ub >= thr - _TIE_LOW) & (thrk >= kx)))
            if not len(maybe):
                continue
            # the thresholds in index rows may lag; the buffers' own last scores do not
            Y = S[maybe]
            n = self._blen[Y]
            last = self._bscore[Y, np.maximum(n - 1, 0)]
            Y = Y[self._bex[Y] | (n == 0) | (ub[maybe] >= last - _TIE_LOW)]
            ys, ss = [], []
            for y in Y.tolist():
                if skip is not None and y in skip:
                    continue
                s = self._exact(p, y, cache)
                if s is not None:
                    ys.append(y)
                    ss.append(s)
            self._offer_many(x, p.id, ys, ss, ev)

    def _offer_many(self, x: int, xid: str, ys: list[int], ss: list[float], ev: _Event) -> None:
        """`_offer` of X (exact scores ss) to many buffers at once: X's rank in each buffer
        (ids decide score ties), then the buffers X enters are shifted and written with a
        few numpy gathers."""
        m = len(ys)
        if m < 8:
            for y, s in zip(ys, ss):
                self._offer(y, x, xid, s, ev)
            return
        L = self._L
        Y = np.array(ys, np.int64)
        sv = np.array(ss, np.float64)
        n = self._blen[Y].astype(np.int64)
        ex = self._bex[Y]
        B = self._bscore[Y]
        J = np.arange(L)
        valid = J[None, :] < n[:, None]
        # X's rank among the buffered entries: better scores, then equal scores with a smaller id
        pos = ((B > sv[:, None]) & valid).sum(axis=1)
        eq = valid & (B == sv[:, None])
        tied = np.flatnonzero(eq.any(axis=1))
        if len(tied):
            prep = self._prep
            for r, row_eq, slots in zip(tied.tolist(), eq[tied].tolist(), self._bslot[Y[tied]].tolist()):
                pos[r] += sum(1 for e, z in zip(row_eq, slots) if e and prep[z].id < xid)
        empty = ~ex & (n == 0)
        for y in Y[empty].tolist():
            ev.touch(y)  # needs a refill anyway
        fast = ~empty & (ex | (pos < n))
        if not fast.any():
            return
        Y, sv, n, ex, B, pos = Y[fast], sv[fast], n[fast], ex[fast], B[fast], pos[fast]
        m = len(Y)
        ev.touch_many(Y.tolist())
        src = np.maximum(J[None, :] - (J[None, :] > pos[:, None]), 0)
        at = J[None, :] == pos[:, None]
        BS = self._bslot[Y]
        newB = np.where(at, sv[:, None], np.take_along_axis(B, src, 1))
        newS = np.where(at, x, np.take_along_axis(BS, src, 1))
        full = n == L
        m_new = np.minimum(n + 1, L)
        self._bslot[Y] = newS
        self._bscore[Y] = newB
        self._blen[Y] = m_new
        self._bex[Y[ex & (m_new >= L)]] = False
        rev = self._rev
        for y, z in zip(Y[full].tolist(), BS[full, L - 1].tolist()):
            rev[z].remove(y)
        a = rev[x]
        if a is None:
            a = rev[x] = array("i")
        a.frombytes(Y.astype(np.int32).tobytes())
        exn = self._bex[Y]
        new_thr = np.where(exn, _NEG_INF, newB[np.arange(m), m_new - 1])
        old_thr = self._row[Y, C_THR]
        upd = (new_thr < old_thr) | (new_thr > old_thr + _THR_SLACK) | ((new_thr == old_thr) & ~exn)
        for y in Y[upd].tolist():
            self._set_thr(y)

    def _holders(self, x: int) -> list[int]:
        """Items whose buffers contain X (from the reverse index)."""
        a = self._rev[x]
        return a.tolist() if a is not None else []

    def _unlink_buffer(self, y: int) -> None:
        """Drop Y's buffer entries from the reverse index (before Y's buffer is reset)."""
        n = int(self._blen[y])
        if n and self._track:
            rev = self._rev
            for z in self._bslot[y, :n].tolist():
                rev[z].remove(y)

    def _link_all(self, slots: list[int] | None) -> None:
        """Add the buffer entries of the given slots (None: every slot, from an empty reverse
        index) to the reverse index, in bulk."""
        if slots is None:
            self._rev = [None] * self._cap
            ys = np.flatnonzero(self._blen[: self._cap] > 0)
        else:
            ys = np.array(sorted(slots), np.int64)
        if not len(ys):
            return
        lens = self._blen[ys].astype(np.int64)
        keep = np.arange(self._L)[None, :] < lens[:, None]
        xs = self._bslot[ys][keep].astype(np.int64)
        hold = np.repeat(ys, lens).astype(np.int32)
        order = np.argsort(xs, kind="stable")
        xs = xs[order]
        hold = hold[order]
        cuts = np.flatnonzero(np.diff(xs)) + 1
        starts = np.concatenate(([0], cuts)).tolist()
        ends = np.concatenate((cuts, [len(xs)])).tolist()
        rev = self._rev
        buf = hold.tobytes()
        for x, a, b in zip(xs[starts].tolist(), starts, ends):
            cur = rev[x]
            if cur is None:
                cur = rev[x] = array("i")
            cur.frombytes(buf[4 * a : 4 * b])

    def _refill(self, ev: _Event, x: int) -> None:
        K = self.k
        for y in list(ev.snap):
            if y != x and not self._bex[y] and self._blen[y] < K:
                self.counters["refills"] += 1
                self._compute_buffer(y)

    # ------------------------------------------------------------------ diff

    def _diff(self, x: int, old: Prepared | None, new: Prepared | None, snap_x: tuple[int, ...],
              holders_before: set[int], ev: _Event) -> Diff:
        prep = self._prep
        tenants = self._tenants
        before: dict[tuple[str, str], Match] = {}
        after: dict[tuple[str, str], Match] = {}
        top_x_before = set(snap_x)
        snap = ev.snap
        ys = [y for y in snap if y != x]
        tops = self._topk_many(ys)
        if new is not None:
            top_x_after = set(self._topk(x))
            holders_after = set()
            for y in self._holders(x):
                top = tops[y] if y in tops else self._topk(y)
                if x in top:
                    holders_after.add(y)
        else:
            top_x_after = holders_after = set()
        for y in top_x_before | top_x_after | holders_before | holders_after:
            if old is not None and (y in top_x_before or y in holders_before):
                m = rules.explain(old, prep[y], tenants)
                before[m.pair] = m
            if new is not None and (y in top_x_after or y in holders_after):
                m = rules.explain(new, prep[y], tenants)
                after[m.pair] = m
        seen: set[tuple[int, int]] = set()
        for y in ys:
            top_before = snap[y]
            top_after = tops[y]
            if top_after == top_before:
                continue
            for z in set(top_before).symmetric_difference(top_after):
                if z == x:
                    continue
                key = (y, z) if y < z else (z, y)
                if key in seen:
                    continue
                seen.add(key)
                z_after = tops[z] if z in tops else self._topk(z)
                z_before = snap.get(z, z_after)
                was = z in top_before or y in z_before
                now = z in top_after or y in z_after
                if was != now:
                    m = rules.explain(prep[y], prep[z], tenants)
                    (before if was else after)[m.pair] = m
        return Diff.between(before, after)

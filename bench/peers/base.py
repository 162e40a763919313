"""What every peer of the engine shares: the encoding of items and the top-L list keeping.

A peer differs from the engine only in HOW it finds and scores the valid counterparts of
an item (one candidate query: `PeerMatcher._query`); what it does with them per event is
the engine's own algorithm (and Diff), written here once for both peers (see the docstring
of `bench/engine_bench.py` for the per-event definition).
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np

from services.matching.engine import rules
from services.matching.engine.model import ACTOR_TYPES, Diff, Item, Match, TenantInfo
from services.matching.engine.rules import VIS_REGION, VIS_STATE, Prepared, TenantDirectory

NEG_INF = -math.inf
# A score rounded to 6 decimals differs from the unrounded value by at most 5e-7.
ROUND_SLACK = 6e-7
MINUTES_PER_WEEK = 7 * 1440
PRIVATE_ATYPES = tuple(i for i, name in enumerate(ACTOR_TYPES) if rules.is_private(name))

Entry = tuple[float, int]  # (exact score, uid of the counterpart)


class Vocab:
    """Interns strings to bits of a 63-bit mask (exact; more than 63 values is an error)."""

    def __init__(self, name: str):
        self.name = name
        self.ids: dict[str, int] = {}

    def bit(self, value: str) -> int:
        i = self.ids.get(value)
        if i is None:
            i = len(self.ids)
            if i >= 63:
                raise ValueError(f"more than 63 distinct {self.name}: the peers' bit masks need <= 63")
            self.ids[value] = i
        return i

    def mask(self, values: Iterable[str]) -> int:
        m = 0
        for v in values:
            m |= 1 << self.bit(v)
        return m


class Encoder:
    """Integer codes and bit masks of the item attributes, shared by both peers."""

    def __init__(self, tenants: TenantDirectory):
        self.tenants = tenants
        self.cats, self.skills, self.reqs, self.langs = (Vocab(n) for n in ("categories", "skills", "requirements", "languages"))
        self.tenant_code = Vocab("tenants")
        self.actors: dict[str, int] = {}
        self._see: dict[tuple[int, str], int] = {}
        for name in tenants.known():
            self.tenant_code.bit(name)
            for nb in tenants.region(name):
                self.tenant_code.bit(nb)

    def actor(self, actor_id: str) -> int:
        a = self.actors.get(actor_id)
        if a is None:
            a = self.actors[actor_id] = len(self.actors)
        return a

    def tbit(self, tenant: str) -> int:
        return 1 << self.tenant_code.bit(tenant)

    def seemask(self, p: Prepared) -> int:
        """Bits of the tenants whose items p may see (rules.sees)."""
        key = (p.vis, p.tenant)
        m = self._see.get(key)
        if m is None:
            if p.vis == VIS_STATE:
                m = (1 << 63) - 1
            elif p.vis == VIS_REGION:
                m = 0
                for t in self.tenants.region(p.tenant):
                    m |= self.tbit(t)
            else:
                m = self.tbit(p.tenant)
            self._see[key] = m
        return m

    def weights(self, tenant: str) -> tuple[tuple[float, ...], float]:
        return self.tenants.weights(tenant)


class TopLists:
    """Per item (by uid) its buffer: a prefix of its ranked valid counterparts of length L
    (top K plus K spare, like the engine), or all of them ("exhaustive", shorter than L);
    plus the reverse index (who holds whom) and the set of buffers changed in the event."""

    def __init__(self, k: int, L: int):
        self.k, self.L = k, L
        self.ids: list[str | None] = []
        self.uid_of: dict[str, int] = {}
        self.free: list[int] = []
        self.bslot = np.full((0, L), -1, np.int32)
        self.bscore = np.zeros((0, L), np.float64)
        self.blen = np.zeros(0, np.int32)
        self.bex = np.ones(0, np.bool_)
        self.held_by: list[set[int] | None] = []
        self.dirty: set[int] = set()
        self.snap: dict[int, tuple[int, ...]] = {}  # top-K (uids) before the event, of each touched buffer

    def touch(self, y: int) -> None:
        if y not in self.snap:
            self.snap[y] = self.topk_uids(y)

    def topk_uids(self, y: int) -> tuple[int, ...]:
        n = min(self.k, int(self.blen[y]))
        return tuple(self.bslot[y, :n].tolist())

    # -------------------------------------------------------------- uids

    def _grow(self, n: int) -> None:
        cap = len(self.blen)
        if n <= cap:
            return
        new = max(n, 2 * cap, 1024)

        def grown(a: np.ndarray, fill) -> np.ndarray:
            b = np.full((new,) + a.shape[1:], fill, a.dtype)
            b[:cap] = a
            return b

        self.bslot, self.bscore = grown(self.bslot, -1), grown(self.bscore, 0.0)
        self.blen, self.bex = grown(self.blen, 0), grown(self.bex, True)

    def new_uid(self, item_id: str) -> int:
        if self.free:
            u = self.free.pop()
            self.ids[u] = item_id
            self.held_by[u] = set()
        else:
            u = len(self.ids)
            self.ids.append(item_id)
            self.held_by.append(set())
            self._grow(u + 1)
        self.uid_of[item_id] = u
        self.blen[u] = 0
        self.bex[u] = True
        return u

    def release(self, u: int) -> None:
        self.set_buffer(u, [], True)
        del self.uid_of[self.ids[u]]
        self.ids[u] = None
        self.held_by[u] = None
        self.dirty.discard(u)
        self.free.append(u)

    def load_arrays(self, ids: list[str], bslot: np.ndarray, bscore: np.ndarray, blen: np.ndarray,
                    bex: np.ndarray, progress: Callable[[str], None] | None = None) -> None:
        """Initial state given as arrays indexed by uid = position in `ids`."""
        n = len(ids)
        self.ids = list(ids)
        self.uid_of = {item_id: u for u, item_id in enumerate(ids)}
        self._grow(n + n // 4 + 1024)
        self.bslot[:n], self.bscore[:n], self.blen[:n], self.bex[:n] = bslot, bscore, blen, bex
        held: list[set[int] | None] = [set() for _ in range(n)]
        for y in range(n):
            for z in bslot[y, : blen[y]].tolist():
                held[z].add(y)
            if progress is not None and y % 200_000 == 199_999:
                progress(f"reverse index {y + 1}/{n}")
        self.held_by = held

    # -------------------------------------------------------------- buffers

    def threshold(self, y: int) -> tuple[float, str | None]:
        """(score, id) of the last buffered entry; (-inf, None) when any counterpart may enter."""
        n = int(self.blen[y])
        if self.bex[y] or n == 0:
            return NEG_INF, None
        return float(self.bscore[y, n - 1]), self.ids[int(self.bslot[y, n - 1])]

    def set_buffer(self, y: int, entries: list[Entry], exhaustive: bool) -> None:
        self.touch(y)
        held = self.held_by
        for z in self.bslot[y, : self.blen[y]].tolist():
            held[z].discard(y)
        n = len(entries)
        self.bslot[y] = -1
        if n:
            self.bslot[y, :n] = [u for _, u in entries]
            self.bscore[y, :n] = [s for s, _ in entries]
            for _, z in entries:
                held[z].add(y)
        self.blen[y] = n
        self.bex[y] = exhaustive
        self.dirty.add(y)

    def offer(self, y: int, s: float, x: int) -> bool:
        """Counterpart x (exact score s) of y: insert it if it belongs into y's buffer (the
        engine's `_offer`). Returns whether y is touched (changed, or empty and due a refill)."""
        n = int(self.blen[y])
        ids = self.ids
        xid = ids[x]
        exhaustive = bool(self.bex[y])
        if not exhaustive:
            if n == 0:
                self.touch(y)
                return True
            last_s = float(self.bscore[y, n - 1])
            if s < last_s or (s == last_s and xid > ids[int(self.bslot[y, n - 1])]):
                return False
        self.touch(y)
        scores = self.bscore[y, :n].tolist()
        slots = self.bslot[y, :n].tolist()
        i = 0
        while i < n and (scores[i] > s or (scores[i] == s and ids[slots[i]] < xid)):
            i += 1
        scores.insert(i, s)
        slots.insert(i, x)
        self.held_by[x].add(y)
        if len(slots) > self.L:
            scores.pop()
            self.held_by[slots.pop()].discard(y)
        m = len(slots)
        self.bslot[y, :m] = slots
        self.bscore[y, :m] = scores
        self.blen[y] = m
        if exhaustive and m >= self.L:
            self.bex[y] = False
        self.dirty.add(y)
        return True

    def remove_from(self, y: int, x: int) -> None:
        self.touch(y)
        n = int(self.blen[y])
        row = self.bslot[y, :n].tolist()
        i = row.index(x)
        if i < n - 1:
            self.bslot[y, i : n - 1] = self.bslot[y, i + 1 : n].copy()
            self.bscore[y, i : n - 1] = self.bscore[y, i + 1 : n].copy()
        self.bslot[y, n - 1] = -1
        self.blen[y] = n - 1
        self.held_by[x].discard(y)
        self.dirty.add(y)

    def top_k(self, y: int) -> list[tuple[str, float]]:
        n = min(self.k, int(self.blen[y]))
        return [(self.ids[u], s) for u, s in zip(self.bslot[y, :n].tolist(), self.bscore[y, :n].tolist())]


class PeerMatcher:
    """The engine's per-event algorithm over a backend that answers candidate queries.

    Subclasses implement `_put`, `_delete`, `_query` and `_write_thresholds` (and may
    override `_bulk_put`, `close`)."""

    name = "peer"

    def __init__(self, k: int = 10, tenants: dict[str, TenantInfo] | None = None, buffer_extra: int | None = None):
        self.k = int(k)
        self.L = self.k + (self.k if buffer_extra is None else int(buffer_extra))
        self.tenants = TenantDirectory(tenants)
        self.enc = Encoder(self.tenants)
        self.lists = TopLists(self.k, self.L)
        self.prep: dict[int, Prepared] = {}  # uid -> prepared item
        self.counters = {"queries": 0, "refills": 0, "rows": 0, "exact": 0}
        self.last_changed = 0  # buffers changed by the last event

    # -------------------------------------------------------------- backend hooks

    def _bulk_put(self, items: list[tuple[int, Prepared]], progress: Callable[[str], None] | None) -> None:
        for u, p in items:
            self._put(u, p, True)

    def _put(self, u: int, p: Prepared, new: bool) -> None:
        raise NotImplementedError

    def _delete(self, u: int, p: Prepared) -> None:
        raise NotImplementedError

    def _query(self, u: int, p: Prepared, reverse: bool) -> tuple[list[Entry], bool, list[Entry]]:
        """(u's exact top-L [(score, uid)] ranked, exhaustive, and -- when `reverse` -- the
        valid counterparts y with their exact score that may enter y's buffer: every y whose
        score reaches y's stored threshold (a superset is fine; `TopLists.offer` decides))."""
        raise NotImplementedError

    def _write_thresholds(self, uids: list[int]) -> None:
        """Make the backend's copy of these buffers' thresholds current."""

    def close(self) -> None:
        pass

    # -------------------------------------------------------------- state

    def __len__(self) -> int:
        return len(self.prep)

    def top_k(self, item_id: str) -> list[tuple[str, float]]:
        u = self.lists.uid_of.get(item_id)
        return [] if u is None else self.lists.top_k(u)

    def load(self, items: list[Item], buffers: tuple | None = None,
             progress: Callable[[str], None] | None = None, prepared: list[Prepared] | None = None) -> None:
        """Load the open items (uid = position in `items`). `buffers` = (bslot, bscore, blen,
        bex) arrays by uid (the engine's state after its bulk load) or None to compute every
        buffer with one query per item (small sizes only). `prepared`: the items' prepared
        forms, if already at hand (shared, read only)."""
        lists = self.lists
        pairs = []
        for i, item in enumerate(items):
            u = lists.new_uid(item.id)
            p = rules.prepare(item) if prepared is None else prepared[i]
            self.prep[u] = p
            pairs.append((u, p))
        self._bulk_put(pairs, progress)
        if buffers is None:
            for u, p in pairs:
                top, ex, _ = self._query(u, p, False)
                lists.set_buffer(u, top, ex)
        else:
            lists.load_arrays([it.id for it in items], *buffers, progress=progress)
        self._write_thresholds([u for u, _ in pairs])
        lists.dirty.clear()
        lists.snap.clear()

    # -------------------------------------------------------------- events

    def upsert(self, item: Item) -> Diff:
        """Publish or update: the Diff of the match set, as the engine's `upsert` returns it."""
        lists = self.lists
        lists.snap.clear()
        p = rules.prepare(item)
        u = lists.uid_of.get(item.id)
        old = None
        holders_before: set[int] = set()
        touched: set[int] = set()
        if u is not None:
            old = self.prep[u]
            lists.touch(u)
            for y in list(lists.held_by[u]):
                lists.touch(y)
                if u in lists.snap[y]:
                    holders_before.add(y)
                lists.remove_from(y, u)
                touched.add(y)
            self._put(u, p, False)
        else:
            u = lists.new_uid(item.id)
            lists.touch(u)
            self._put(u, p, True)
        self.prep[u] = p
        top, exhaustive, enters = self._query(u, p, True)
        lists.set_buffer(u, top, exhaustive)
        for s, y in enters:
            if lists.offer(y, s, u):
                touched.add(y)
        self._refill(touched)
        diff = self._diff(u, old, p, holders_before)
        self._finish()
        return diff

    def remove(self, item_id: str) -> Diff:
        """Close: the Diff of the match set, as the engine's `remove` returns it."""
        lists = self.lists
        lists.snap.clear()
        u = lists.uid_of.get(item_id)
        if u is None:
            return Diff()
        old = self.prep[u]
        lists.touch(u)
        touched = set(lists.held_by[u])
        holders_before = set()
        for y in touched:
            lists.touch(y)
            if u in lists.snap[y]:
                holders_before.add(y)
            lists.remove_from(y, u)
        self._delete(u, old)
        self._refill(touched)
        diff = self._diff(u, old, None, holders_before)
        del self.prep[u]
        lists.release(u)
        self._finish()
        return diff

    def _refill(self, touched: Iterable[int]) -> None:
        lists = self.lists
        for y in touched:
            if not lists.bex[y] and lists.blen[y] < self.k:
                self.counters["refills"] += 1
                top, exhaustive, _ = self._query(y, self.prep[y], False)
                lists.set_buffer(y, top, exhaustive)

    def _finish(self) -> int:
        dirty = self.lists.dirty
        n = len(dirty)
        self.last_changed = n
        if dirty:
            self._write_thresholds(list(dirty))
            dirty.clear()
        return n

    def _diff(self, x: int, old: Prepared | None, new: Prepared | None, holders_before: set[int]) -> Diff:
        """The change of the match set M = {(O, N): N in topK(O) or O in topK(N)}: the pairs with
        X (explained with X's old / new version) and the pairs (Y, Z) whose membership changed
        because Z entered or left topK(Y) of a touched Y -- the engine's `_diff`, on the peer's lists."""
        lists = self.lists
        prep = self.prep
        tenants = self.tenants
        snap = lists.snap
        before: dict[tuple[str, str], Match] = {}
        after: dict[tuple[str, str], Match] = {}
        top_x_before = set(snap.get(x, ()))
        top_x_after = set(lists.topk_uids(x)) if new is not None else set()
        holders_after = {y for y in snap if y != x and x in lists.topk_uids(y)} if new is not None else set()
        for y in top_x_before | top_x_after | holders_before | holders_after:
            if old is not None and (y in top_x_before or y in holders_before):
                m = rules.explain(old, prep[y], tenants)
                before[m.pair] = m
            if new is not None and (y in top_x_after or y in holders_after):
                m = rules.explain(new, prep[y], tenants)
                after[m.pair] = m
        seen: set[tuple[int, int]] = set()
        for y, top_before in snap.items():
            if y == x:
                continue
            top_after = lists.topk_uids(y)
            if top_after == top_before:
                continue
            for z in set(top_before).symmetric_difference(top_after):
                if z == x:
                    continue
                key = (y, z) if y < z else (z, y)
                if key in seen:
                    continue
                seen.add(key)
                z_after = lists.topk_uids(z)
                z_before = snap.get(z, z_after)
                was = z in top_before or y in z_before
                now = z in top_after or y in z_after
                if was != now:
                    m = rules.explain(prep[y], prep[z], tenants)
                    (before if was else after)[m.pair] = m
        return Diff.between(before, after)


def engine_buffers(engine, items: list[Item]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The engine's buffers after its bulk load, re-indexed by position in `items` (read only)."""
    n = len(items)
    slot_of = engine._slot_of
    slots = np.fromiter((slot_of[it.id] for it in items), np.int64, n)
    slot2uid = np.full(len(engine._blen) + 1, -1, np.int32)
    slot2uid[slots] = np.arange(n, dtype=np.int32)
    bslot = slot2uid[engine._bslot[slots]]  # -1 (empty) maps to the last entry, -1
    return bslot, engine._bscore[slots].copy(), engine._blen[slots].copy(), engine._bex[slots].copy()

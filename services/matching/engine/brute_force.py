"""The oracle: the same API as MatchingEngine, computed from scratch with plain loops.

After every event it recomputes every item's top-K over all items (O(N^2) rule
evaluations) and diffs the whole match set. Correct by construction and only meant for
tests and as the baseline; `scan()` is the single full pass over all items that any
index-free matcher needs per event at the very least (used by the benchmark).
"""
from __future__ import annotations

from typing import Iterable

from . import rules
from .model import Diff, Item, Match, TenantInfo, VersionLedger
from .rules import Prepared, TenantDirectory


class BruteForceMatcher:
    def __init__(self, k: int = 10, tenants: dict[str, TenantInfo] | None = None):
        if k < 1:
            raise ValueError("k must be >= 1")
        self.k = int(k)
        self._tenants = TenantDirectory(tenants)
        self._items: dict[str, Prepared] = {}
        self._ledger = VersionLedger()
        self._state: dict[tuple[str, str], Match] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def load(self, items: Iterable[Item]) -> None:
        """Store items without computing anything (the match set is computed on demand)."""
        for item in items:
            current = self._items.get(item.id)
            if current is None or item.version > current.version:
                self._items[item.id] = rules.prepare(item)
        self._state = None

    def load_prepared(self, prepared: Iterable[Prepared]) -> None:
        """Store already prepared items (shares them with another matcher; no copies)."""
        for p in prepared:
            self._items[p.id] = p
        self._state = None

    def prepared(self) -> list[Prepared]:
        return list(self._items.values())

    # ------------------------------------------------------------------ from scratch

    def _top_k_ids(self) -> dict[str, list[str]]:
        items = list(self._items.values())
        tenants = self._tenants
        tops: dict[str, list[str]] = {}
        for a in items:
            ranked = []
            for b in items:
                if b is a:
                    continue
                s = rules.score(a, b, tenants)
                if s is not None:
                    ranked.append(rules.rank_key(s, b.id))
            ranked.sort()
            tops[a.id] = [cid for _, cid in ranked[: self.k]]
        return tops

    def _compute(self) -> dict[tuple[str, str], Match]:
        state: dict[tuple[str, str], Match] = {}
        for a_id, top in self._top_k_ids().items():
            for b_id in top:
                m = rules.explain(self._items[a_id], self._items[b_id], self._tenants)
                state[m.pair] = m
        return state

    def match_set(self) -> dict[tuple[str, str], Match]:
        if self._state is None:
            self._state = self._compute()
        return self._state

    def _event(self, change) -> Diff:
        before = self.match_set()
        change()
        self._state = None
        return Diff.between(before, self.match_set())

    # ------------------------------------------------------------------ API

    def upsert_tenant(self, info: TenantInfo) -> Diff:
        return self._event(lambda: self._tenants.upsert(info))

    def upsert(self, item: Item) -> Diff:
        current = self._items.get(item.id)
        if not self._ledger.admits_upsert(item.id, item.version, None if current is None else current.version):
            return Diff()

        def change() -> None:
            self._items[item.id] = rules.prepare(item)

        return self._event(change)

    def remove(self, item_id: str, version: int | None = None) -> Diff:
        current = self._items.get(item_id)
        if not self._ledger.admits_remove(item_id, version, None if current is None else current.version):
            return Diff()
        return self._event(lambda: self._items.pop(item_id))

    def matches_for(self, item_id: str) -> list[Match]:
        if item_id not in self._items:
            return []
        mine = [m for m in self.match_set().values() if item_id in m.pair]
        mine.sort(key=lambda m: (-m.score, m.need_id if m.offer_id == item_id else m.offer_id))
        return mine

    def top_k(self, item_id: str) -> list[tuple[str, float]]:
        if item_id not in self._items:
            return []
        a = self._items[item_id]
        return [(cid, -neg) for neg, cid in self.scan(a)[: self.k]]

    def scan(self, item: Item | Prepared) -> list[tuple[float, str]]:
        """One plain-loop pass over all stored items: every valid counterpart of `item` as
        rank keys (-score, id), best first. The per-event floor of brute force."""
        a = item if isinstance(item, Prepared) else rules.prepare(item)
        tenants = self._tenants
        score = rules.score
        ranked = []
        for b in self._items.values():
            if b.id == a.id:
                continue
            s = score(a, b, tenants)
            if s is not None:
                ranked.append((-s, b.id))
        ranked.sort()
        return ranked

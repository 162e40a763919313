"""Peer 2: a vectorised numpy scan over columnar arrays of all open items.

One candidate query = one pass over the columns (no spatial index): kind and category
mask first (on all rows), then on the survivors visibility both ways, same actor,
requirements, the hour-slot schedule pre-filter, a latitude band and the haversine distance
against both radii (remote rows skip the distance), then the score of every survivor with the
rules' formula in float64. The unrounded vectorised score can differ from `rules.score`
in the last bits and the hour-slot schedule test is a superset of the minute-exact one, so
the ranking is settled exactly: candidates are taken in order of vectorised score and
re-scored with `rules.score` until no remaining one can reach the L-th exact score
(a margin of 6e-7 covers the rounding); reverse candidates (score reaching their stored
threshold minus the margin) are re-scored the same way.

Updates write the item's row in place; a close swap-deletes its row (the last row moves
into the hole). Arrays grow by doubling.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from services.matching.engine import rules
from services.matching.engine.rules import OFFER, Prepared

from .base import NEG_INF, PRIVATE_ATYPES, ROUND_SLACK, Entry, PeerMatcher

_ENG = np.array(rules.ENGAGEMENT_FIT, np.float64)
_ACT = np.array(rules.ACTOR_TYPE_FIT, np.float64)
_M64 = (1 << 64) - 1
_TWO_R = 2.0 * rules.EARTH_RADIUS_KM

_COLUMNS = {
    "uid": np.int32, "kind": np.int8, "cat": np.uint64, "see": np.uint64, "tbit": np.uint64,
    "actor": np.int64, "req": np.uint64, "skill": np.uint64, "nskill": np.int16, "lang": np.uint64,
    "hs": np.bool_, "s0": np.uint64, "s1": np.uint64, "s2": np.uint64, "nslots": np.int16,
    "remote": np.bool_, "lat": np.float64, "lon": np.float64, "coslat": np.float64,
    "radius": np.float64, "eng": np.int8, "atype": np.int8, "acc": np.bool_, "private": np.bool_,
    "wrow": np.int16, "thr": np.float64,
}


class NumpyScanPeer(PeerMatcher):
    name = "numpy"

    def __init__(self, k: int = 10, tenants=None, buffer_extra: int | None = None):
        super().__init__(k, tenants, buffer_extra)
        self.n = 0
        self.cap = 0
        self.col: dict[str, np.ndarray] = {name: np.zeros(0, dt) for name, dt in _COLUMNS.items()}
        self.row_of: dict[int, int] = {}  # uid -> row
        self.prow: list[Prepared | None] = []  # row -> prepared item
        self._wtab: list[tuple[float, ...]] = []
        self._wrow: dict[str, int] = {}
        self.W = np.zeros((0, 8))
        self.WT = np.zeros(0)

    # -------------------------------------------------------------- storage

    def _grow(self, need: int) -> None:
        if need <= self.cap:
            return
        cap = max(need, 2 * self.cap, 1024)
        for name, a in self.col.items():
            b = np.zeros(cap, a.dtype)
            b[: self.n] = a[: self.n]
            self.col[name] = b
        self.prow.extend([None] * (cap - len(self.prow)))
        self.cap = cap

    def _weights_row(self, tenant: str) -> int:
        r = self._wrow.get(tenant)
        if r is None:
            w, total = self.enc.weights(tenant)
            r = self._wrow[tenant] = len(self._wtab)
            self._wtab.append(w)
            self.W = np.array(self._wtab, np.float64)
            self.WT = np.array([sum(x) for x in self._wtab], np.float64)
        return r

    def _values(self, u: int, p: Prepared) -> dict:
        enc = self.enc
        return {
            "uid": u, "kind": p.kind, "cat": enc.cats.mask(p.cats), "see": enc.seemask(p),
            "tbit": enc.tbit(p.tenant), "actor": enc.actor(p.actor_id), "req": enc.reqs.mask(p.reqs),
            "skill": enc.skills.mask(p.skills), "nskill": len(p.skills), "lang": enc.langs.mask(p.langs),
            "hs": p.has_sched, "s0": p.slots & _M64, "s1": (p.slots >> 64) & _M64, "s2": p.slots >> 128,
            "nslots": p.nslots, "remote": p.remote, "lat": p.lat, "lon": p.lon, "coslat": p.coslat,
            "radius": p.radius, "eng": p.eng, "atype": p.atype, "acc": p.accessible,
            "private": p.atype in PRIVATE_ATYPES, "wrow": self._weights_row(p.tenant),
            "thr": NEG_INF,
        }

    def _write_row(self, r: int, u: int, p: Prepared) -> None:
        for name, v in self._values(u, p).items():
            self.col[name][r] = v
        self.prow[r] = p
        self.row_of[u] = r

    def _bulk_put(self, items: list[tuple[int, Prepared]], progress: Callable[[str], None] | None) -> None:
        self._grow(len(items) + len(items) // 4 + 1024)
        for u, p in items:
            if p.cap_ok:
                self._write_row(self.n, u, p)
                self.n += 1

    def _put(self, u: int, p: Prepared, new: bool) -> None:
        r = self.row_of.get(u)
        if not p.cap_ok:
            if r is not None:
                self._delete(u, p)
            return
        if r is None:
            self._grow(self.n + 1)
            r = self.n
            self.n += 1
        self._write_row(r, u, p)

    def _delete(self, u: int, p: Prepared) -> None:
        r = self.row_of.pop(u, None)
        if r is None:
            return
        last = self.n - 1
        if r != last:
            for a in self.col.values():
                a[r] = a[last]
            moved = self.prow[last]
            self.prow[r] = moved
            self.row_of[int(self.col["uid"][r])] = r
        self.prow[last] = None
        self.n = last

    def _write_thresholds(self, uids: list[int]) -> None:
        thr = self.col["thr"]
        lists = self.lists
        for u in uids:
            r = self.row_of.get(u)
            if r is not None:
                thr[r] = lists.threshold(u)[0]

    # -------------------------------------------------------------- the scan

    def _candidates(self, u: int, p: Prepared):
        """(rows, vectorised scores) of every row that passes the vectorised filters."""
        c = self.col
        n = self.n
        enc = self.enc
        xcat = np.uint64(enc.cats.mask(p.cats))
        idx = np.flatnonzero((c["kind"][:n] != p.kind) & ((c["cat"][:n] & xcat) != 0))
        if not len(idx):
            return idx, None
        xsee, xtbit = np.uint64(enc.seemask(p)), np.uint64(enc.tbit(p.tenant))
        keep = ((c["see"][idx] & xtbit) != 0) & ((c["tbit"][idx] & xsee) != 0)
        keep &= c["actor"][idx] != enc.actor(p.actor_id)
        xreq = enc.reqs.mask(p.reqs)
        if p.kind == OFFER:
            keep &= (c["req"][idx] & np.uint64(xreq ^ _M64)) == 0
        elif xreq:
            keep &= (~c["req"][idx] & np.uint64(xreq)) == 0
        if p.has_sched:
            slots = p.slots
            ov = np.bitwise_count(c["s0"][idx] & np.uint64(slots & _M64)).astype(np.int16)
            ov += np.bitwise_count(c["s1"][idx] & np.uint64((slots >> 64) & _M64))
            ov += np.bitwise_count(c["s2"][idx] & np.uint64(slots >> 128))
            keep &= ~c["hs"][idx] | (ov > 0)
        remote = c["remote"][idx]
        if not p.remote:
            # latitude band: d >= R * |dlat|, so rows outside it cannot be within X's radius
            keep &= remote | (np.abs(c["lat"][idx] - p.lat) <= p.radius / rules.EARTH_RADIUS_KM * 1.000001)
        idx = idx[keep]
        if not len(idx):
            return idx, None
        remote = c["remote"][idx]
        if p.remote:
            d = np.full(len(idx), -1.0)
        else:
            s_lat = np.sin((c["lat"][idx] - p.lat) * 0.5)
            s_lon = np.sin((c["lon"][idx] - p.lon) * 0.5)
            h = s_lat * s_lat + p.coslat * c["coslat"][idx] * s_lon * s_lon
            d = _TWO_R * np.arcsin(np.sqrt(np.minimum(1.0, h)))
            ok = remote | ((d <= c["radius"][idx]) & (d <= p.radius))
            idx, d, remote = idx[ok], d[ok], remote[ok]
            if not len(idx):
                return idx, None
            d = np.where(remote, -1.0, d)
        # score factors (offer o, need n), as in rules._factor_values
        cat = c["cat"][idx]
        f_cat = np.bitwise_count(cat & xcat) / np.bitwise_count(cat | xcat)
        xskill = np.uint64(enc.skills.mask(p.skills))
        inter = np.bitwise_count(c["skill"][idx] & xskill)
        if p.kind == OFFER:
            nsk = c["nskill"][idx]
            f_sk = np.where(nsk == 0, 1.0, inter / np.maximum(nsk, 1))
        else:
            f_sk = inter / len(p.skills) if p.skills else 1.0
        if p.atype in PRIVATE_ATYPES:
            priv = np.ones(len(idx), np.bool_)
        else:
            priv = c["private"][idx]
        dpub = np.where(priv & (d >= 0.0), np.maximum(1.0, np.ceil(d)), d)
        f_dist = np.where(dpub < 0.0, 1.0, np.exp(-dpub / rules.DISTANCE_SCALE_KM))
        if p.has_sched:
            hs = c["hs"][idx]
            ov = ov[keep]
            if not p.remote:
                ov = ov[ok]
            f_sched = np.where(hs, ov / np.maximum(np.minimum(c["nslots"][idx], p.nslots), 1), 1.0)
        else:
            f_sched = 1.0
        eng, atype, acc = c["eng"][idx], c["atype"][idx], c["acc"][idx]
        if p.kind == OFFER:
            f_eng = _ENG[p.eng][eng]
            f_act = _ACT[p.atype][atype]
            f_acc = 1.0 if p.accessible else (~acc).astype(np.float64)
            wr = c["wrow"][idx]
            W = self.W[wr].T
            WT = self.WT[wr]
        else:
            f_eng = _ENG[:, p.eng][eng]
            f_act = _ACT[:, p.atype][atype]
            f_acc = acc.astype(np.float64) if p.accessible else 1.0
            r = self._weights_row(p.tenant)
            W = self.W[r]
            WT = self.WT[r]
        if p.langs:
            lang = c["lang"][idx]
            f_lang = ((lang == 0) | ((lang & np.uint64(enc.langs.mask(p.langs))) != 0)).astype(np.float64)
        else:
            f_lang = 1.0
        raw = W[0] * f_cat + W[1] * f_sk + W[2] * f_dist + W[3] * f_sched
        raw = raw + W[4] * f_eng + W[5] * f_lang + W[6] * f_acc + W[7] * f_act
        sc = raw / WT
        if np.ndim(sc) == 0:
            sc = np.full(len(idx), float(sc))
        return idx, sc

    def _query(self, u: int, p: Prepared, reverse: bool) -> tuple[list[Entry], bool, list[Entry]]:
        self.counters["queries"] += 1
        if not p.cap_ok:
            return [], True, []
        idx, sc = self._candidates(u, p)
        if not len(idx):
            return [], True, []
        self.counters["rows"] += len(idx)
        prow = self.prow
        uid = self.col["uid"]
        tenants = self.tenants
        ids = self.lists.ids
        exact_cache: dict[int, float | None] = {}

        def exact(r: int) -> float | None:
            s = exact_cache.get(r, 0)
            if s == 0:
                self.counters["exact"] += 1
                s = exact_cache[r] = rules.score(p, prow[r], tenants)
            return s

        L = self.L
        res: list[tuple[float, str, int]] = []  # (-score, id, uid), ranked
        n = len(idx)
        m = min(n, 2 * L + 16)
        order = np.argpartition(-sc, m - 1)[:m] if m < n else np.arange(n)
        order = order[np.argsort(-sc[order], kind="stable")]
        done = np.zeros(n, np.bool_)
        while True:
            done[order] = True
            stop = False
            for j in order.tolist():
                if len(res) >= L and sc[j] < -res[L - 1][0] - ROUND_SLACK:
                    stop = True  # rows are taken in decreasing score: none left can reach it
                    break
                r = int(idx[j])
                s = exact(r)
                if s is None:
                    continue
                y = int(uid[r])
                key = (-s, ids[y], y)
                if len(res) < L or key < res[-1]:
                    res.append(key)
                    res.sort()
                    if len(res) > L:
                        res.pop()
            if stop:
                break
            cut = -res[L - 1][0] - ROUND_SLACK if len(res) >= L else NEG_INF
            rest = np.flatnonzero(~done & (sc >= cut))
            if not len(rest):
                break
            order = rest[np.argsort(-sc[rest], kind="stable")]
        top = [(-ns, y) for ns, _, y in res]
        enters: list[Entry] = []
        if reverse:
            thr = self.col["thr"][idx]
            for j in np.flatnonzero(sc >= thr - ROUND_SLACK).tolist():
                r = int(idx[j])
                s = exact(r)
                if s is not None:
                    enters.append((s, int(uid[r])))
        return top, len(res) < L, enters

#!/usr/bin/env python3
"""How much of the state each matching worker would hold if the work were shared by geography.

    python bench/shard_share.py --items 20000 --shards 2 4 8 --out bench/results/shard-share.json

Issue 12 asks for N replicas that each hold about 1/N of the open items plus a halo, and every
pair announced by exactly one owner (floor: with 4 workers, each holds <= 35 %). This script
measures, on the engine benchmark's items (NRW places, radii 2..50 km, ~10 % remote, visibility
30 % tenant / 50 % region / 20 % state), what a worker must hold for the match set of today's
engine (engine.py: a pair is matched when EITHER side has the other in its top K) to stay exact.

The shards are regions of a k-d split of the local items (median latitude, then median
longitude, ...), so each region holds the same number of local items. Which items a shard must
hold is decided only from what routing can know about an item (kind, place, radius, remote,
tenant, visibility); categories, schedules and requirements change with every update, so a
router cannot rely on them. "Valid" below means: opposite kinds, mutual visibility, and within
both radii unless one side is remote.

* `single_stage` -- one worker decides a pair alone (today's protocol with a geographic owner):
  it owns the pairs of the needs in its region (pairs of a remote need: the offer's region;
  both remote: by hash). To decide a pair it needs the exact top K of BOTH sides, so it holds
  its anchors, every valid counterpart of an anchor (hop 1), and every valid counterpart of
  those (hop 2).
* `single_stage_no_remote` -- the same with remote items left out of the data (as if remote
  items were matched by a separate service).
* `partial_topk` -- a two-stage design: each shard computes, for every item X that can reach
  its region, X's top K among the counterparts located in its region; a second stage merges
  the partial lists of X into X's top K and decides the pairs. A shard holds its region's
  local items, the local items whose own radius reaches the region, and the remote items.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.engine_bench import ItemFactory  # noqa: E402

KM_PER_DEG = 111.2
VISIBILITY = {"tenant": 0, "region": 1, "state": 2}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Population:
    """The items as columns, with planar coordinates in km (NRW is small enough)."""

    def __init__(self, items, factory: ItemFactory, *, drop_remote: bool = False,
                 max_radius_km: float | None = None):
        if drop_remote:
            items = [item for item in items if not item.remote]
        self.n = len(items)
        self.ids = [item.id for item in items]
        lat0 = math.radians(51.5)
        self.x = np.array([item.lon * KM_PER_DEG * math.cos(lat0) for item in items])
        self.y = np.array([item.lat * KM_PER_DEG for item in items])
        self.radius = np.array([item.radius_km for item in items])
        if max_radius_km is not None:  # as if the platform capped the radius
            self.radius = np.minimum(self.radius, max_radius_km)
        self.remote = np.array([item.remote for item in items])
        self.offer = np.array([item.kind == "offer" for item in items])
        tenants = sorted(factory.tenants)
        index = {name: i for i, name in enumerate(tenants)}
        self.tenant = np.array([index[item.tenant] for item in items])
        self.visibility = np.array([VISIBILITY[item.visibility] for item in items])
        # neighbourhood[a, b]: a's region (a itself and its neighbours) contains b
        self.neighbourhood = np.eye(len(tenants), dtype=bool)
        for name, info in factory.tenants.items():
            for other in info.neighbours:
                self.neighbourhood[index[name], index[other]] = True

    def _sees(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[len(a), len(b)]: item a's visibility reaches item b's tenant."""
        vis = self.visibility[a][:, None]
        same = self.tenant[a][:, None] == self.tenant[b][None, :]
        region = self.neighbourhood[self.tenant[a][:, None], self.tenant[b][None, :]]
        return (vis == 2) | ((vis == 1) & region) | ((vis == 0) & same)

    def valid_counterparts(self, of: np.ndarray, chunk: int = 1500) -> np.ndarray:
        """A mask of the items valid (as defined above) for at least one item of `of`."""
        found = np.zeros(self.n, dtype=bool)
        everyone = np.arange(self.n)
        for start in range(0, len(of), chunk):
            a = of[start:start + chunk]
            ok = self.offer[a][:, None] != self.offer[None, :]
            ok &= self._sees(a, everyone) & self._sees(everyone, a).T
            near = np.hypot(self.x[a][:, None] - self.x[None, :], self.y[a][:, None] - self.y[None, :])
            reach = np.minimum(self.radius[a][:, None], self.radius[None, :])
            ok &= self.remote[a][:, None] | self.remote[None, :] | (near <= reach)
            found |= ok.any(axis=0)
        return found


def kd_regions(pop: Population, shards: int) -> list[tuple[float, float, float, float]]:
    """`shards` (a power of two) rectangles (x0, x1, y0, y1) with equal numbers of local items."""
    local = ~pop.remote
    boxes = [(-np.inf, np.inf, -np.inf, np.inf)]
    depth = 0
    while len(boxes) < shards:
        split = []
        for x0, x1, y0, y1 in boxes:
            inside = local & (pop.x >= x0) & (pop.x < x1) & (pop.y >= y0) & (pop.y < y1)
            if depth % 2 == 0:
                cut = float(np.median(pop.y[inside]))
                split += [(x0, x1, y0, cut), (x0, x1, cut, y1)]
            else:
                cut = float(np.median(pop.x[inside]))
                split += [(x0, cut, y0, y1), (cut, x1, y0, y1)]
        boxes, depth = split, depth + 1
    return boxes


def distance_to(pop: Population, box) -> np.ndarray:
    x0, x1, y0, y1 = box
    dx = np.maximum(0.0, np.maximum(x0 - pop.x, pop.x - x1))
    dy = np.maximum(0.0, np.maximum(y0 - pop.y, pop.y - y1))
    return np.hypot(np.nan_to_num(dx, posinf=0.0), np.nan_to_num(dy, posinf=0.0))


def single_stage(pop: Population, boxes, shard: int) -> np.ndarray:
    box = boxes[shard]
    in_region = (~pop.remote) & (distance_to(pop, box) == 0)
    # Anchors: the items whose pairs this shard decides (see the module docstring).
    hashed = np.array([zlib.crc32(item_id.encode()) % len(boxes) == shard for item_id in pop.ids])
    anchors = np.flatnonzero(in_region | (pop.remote & ~pop.offer & hashed))
    hop1 = pop.valid_counterparts(anchors)
    hop2 = pop.valid_counterparts(np.flatnonzero(hop1 & ~np.isin(np.arange(pop.n), anchors)))
    held = hop1 | hop2
    held[anchors] = True
    return held


def partial_topk(pop: Population, boxes, shard: int) -> np.ndarray:
    reach = distance_to(pop, boxes[shard])
    return pop.remote | (reach <= np.where(pop.remote, 0.0, pop.radius))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--shards", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--designs", nargs="+", default=["single_stage", "single_stage_no_remote",
                                                          "partial_topk"])
    parser.add_argument("--max-radius-km", type=float, nargs="+", default=[],
                        help="also measure partial_topk with the radii capped at these values")
    parser.add_argument("--out", default="bench/results/shard-share.json")
    args = parser.parse_args()
    started = time.monotonic()
    factory = ItemFactory(args.seed)
    items = [factory.item() for _ in range(args.items)]
    designs = {
        "single_stage": (lambda: Population(items, factory), single_stage),
        "single_stage_no_remote": (lambda: Population(items, factory, drop_remote=True), single_stage),
        "partial_topk": (lambda: Population(items, factory), partial_topk),
    }
    designs = {name: designs[name] for name in args.designs}
    for cap in args.max_radius_km:
        designs[f"partial_topk_radius_max_{cap:g}km"] = (
            lambda cap=cap: Population(items, factory, max_radius_km=cap), partial_topk)
    designs = {name: (build(), held_by) for name, (build, held_by) in designs.items()}
    results: dict = {}
    for shards in args.shards:
        for name, (pop, held_by) in designs.items():
            boxes = kd_regions(pop, shards)
            shares = [float(held_by(pop, boxes, s).mean()) for s in range(shards)]
            results.setdefault(str(shards), {})[name] = {
                "share_max": round(max(shares), 3), "share_mean": round(sum(shares) / shards, 3),
                "shares": [round(s, 3) for s in shares]}
            log(f"{shards} shards, {name}: each holds {', '.join(f'{s:.0%}' for s in shares)} of the items")
    report = {"items": args.items, "radius_km": "uniform 2..50 (as engine_bench.py)", "seed": args.seed, "python": platform.python_version(),
              "seconds": round(time.monotonic() - started, 1), "by_shards": results}
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""The engine's prepared items as columns: the form in which a snapshot stores them.

Unpickling a million `Prepared` objects, each with its `Item`, its frozensets and its schedule
tuples, costs about 30 µs per item, nearly all of it generic object reconstruction. Here every
field is stored once per item in a column: numbers in numpy arrays, ids in lists of strings, and
the few distinct values of the rest (tenants, frozensets, schedules) in a table with an index
per item. Rebuilding sets the slots of new objects directly, without `Item`'s validation (the
values were validated when the item was first prepared), and shares the immutable values as the
original objects did (`p.cats is p.item.categories`, one frozenset per distinct set).

`to_columns` and `from_columns` are exact inverses: every rebuilt `Item` equals the original
and every `Prepared` slot holds an equal value (tests/unit/matching/test_engine_snapshot.py).
"""
from __future__ import annotations

from dataclasses import fields

import numpy as np

from .model import ACTOR_TYPES, ENGAGEMENTS, KINDS, VISIBILITIES, Item
from .rules import Prepared

Columns = dict[str, "np.ndarray | list"]

ITEM_FIELDS = tuple(f.name for f in fields(Item))


class _Table:
    """Distinct values in order of first use, and each item's index into them."""

    def __init__(self) -> None:
        self.values: list = []
        self._index: dict = {}

    def code(self, value) -> int:
        code = self._index.get(value)
        if code is None:
            code = self._index[value] = len(self.values)
            self.values.append(value)
        return code


def to_columns(prep: list[Prepared | None]) -> Columns:
    """The slots' prepared items (None: a free slot) as columns."""
    present = np.array([p is not None for p in prep], np.bool_)
    live = [p for p in prep if p is not None]
    tenants, sets, schedules = _Table(), _Table(), _Table()
    set_codes: list[int] = []
    tenant_codes, schedule_codes = [], []
    for p in live:
        item = p.item
        tenant_codes.append(tenants.code(p.tenant))
        set_codes += (sets.code(p.cats), sets.code(p.skills), sets.code(p.reqs), sets.code(p.langs))
        schedule_codes.append(schedules.code((item.dates, item.weekly, p.dates, p.weekly,
                                              p.has_sched, p.slots, p.nslots)))

    def floats(get) -> np.ndarray:
        return np.fromiter((get(p) for p in live), np.float64, len(live))

    def small(get) -> np.ndarray:
        return np.fromiter((get(p) for p in live), np.int8, len(live))

    return {
        "present": present,
        "id": [p.id for p in live],
        "actor_id": [p.actor_id for p in live],
        "tenant": np.array(tenant_codes, np.int32),
        "tenants": tenants.values,
        # kind, actor type, visibility and engagement as their index in the model's tuples
        "kind": small(lambda p: p.kind), "atype": small(lambda p: p.atype),
        "vis": small(lambda p: p.vis), "eng": small(lambda p: p.eng),
        "remote": small(lambda p: p.remote), "accessible": small(lambda p: p.accessible),
        "cap_ok": small(lambda p: p.cap_ok),
        "lat_deg": floats(lambda p: p.item.lat), "lon_deg": floats(lambda p: p.item.lon),
        "radius_km": floats(lambda p: p.item.radius_km),
        "lat": floats(lambda p: p.lat), "lon": floats(lambda p: p.lon),
        "coslat": floats(lambda p: p.coslat),
        "capacity_left": np.fromiter((p.item.capacity_left for p in live), np.int64, len(live)),
        "version": np.fromiter((p.version for p in live), np.int64, len(live)),
        # per item: categories, skills, requirements, languages
        "set_codes": np.array(set_codes, np.int32).reshape(len(live), 4),
        "sets": sets.values,
        "schedule": np.array(schedule_codes, np.int32),
        "schedules": schedules.values,
    }


def from_columns(columns: Columns) -> list[Prepared | None]:
    """The list `to_columns` was given, rebuilt."""
    n = len(columns["id"])
    ids, actor_ids = columns["id"], columns["actor_id"]
    tenants = [columns["tenants"][code] for code in columns["tenant"].tolist()]
    kind, atype = columns["kind"].tolist(), columns["atype"].tolist()
    vis, eng = columns["vis"].tolist(), columns["eng"].tolist()
    remote = [bool(v) for v in columns["remote"].tolist()]
    accessible = [bool(v) for v in columns["accessible"].tolist()]
    cap_ok = [bool(v) for v in columns["cap_ok"].tolist()]
    radius = columns["radius_km"].tolist()
    version = columns["version"].tolist()
    sets = columns["sets"]
    cats, skills, reqs, langs = ([sets[code] for code in column]
                                 for column in columns["set_codes"].T.tolist())
    schedules = [columns["schedules"][code] for code in columns["schedule"].tolist()]
    item_values = {
        "id": ids, "kind": [KINDS[k] for k in kind], "actor_id": actor_ids,
        "actor_type": [ACTOR_TYPES[a] for a in atype], "tenant": tenants,
        "visibility": [VISIBILITIES[v] for v in vis], "lat": columns["lat_deg"].tolist(),
        "lon": columns["lon_deg"].tolist(), "radius_km": radius, "remote": remote,
        "categories": cats, "skills": skills, "requirements": reqs,
        "engagement": [ENGAGEMENTS[e] for e in eng], "languages": langs,
        "accessible": accessible, "dates": [s[0] for s in schedules],
        "weekly": [s[1] for s in schedules], "capacity_left": columns["capacity_left"].tolist(),
        "version": version,
    }
    items = _items([item_values[name] for name in ITEM_FIELDS], n)
    live = iter(_prepared(items, kind, atype, vis, eng, columns["lat"].tolist(),
                          columns["lon"].tolist(), columns["coslat"].tolist(), cap_ok, schedules))
    return [next(live) if here else None for here in columns["present"].tolist()]


def _items(values: list[list], n: int) -> list[Item]:
    """n Items with the given field values (in ITEM_FIELDS order), set through the slots'
    descriptors: that bypasses the frozen dataclass's __setattr__ and its validation."""
    if any(len(column) != n for column in values):
        raise ValueError("the item columns differ in length")
    setters = [getattr(Item, name).__set__ for name in ITEM_FIELDS]
    new = object.__new__
    out = []
    for row in zip(*values):
        item = new(Item)
        for setter, value in zip(setters, row):
            setter(item, value)
        out.append(item)
    return out


def _prepared(items, kind, atype, vis, eng, lat, lon, coslat, cap_ok, schedules) -> list[Prepared]:
    """The Prepared objects: the item's own values shared, the rest from the columns. Slot by
    slot (a third of the time a loop over the slot names takes; the tests check every slot)."""
    new = object.__new__
    out = []
    for item, p_kind, p_atype, p_vis, p_eng, p_lat, p_lon, p_coslat, p_cap_ok, schedule in zip(
            items, kind, atype, vis, eng, lat, lon, coslat, cap_ok, schedules):
        p = new(Prepared)
        p.item, p.id, p.version, p.actor_id, p.tenant = (
            item, item.id, item.version, item.actor_id, item.tenant)
        p.kind, p.atype, p.vis, p.eng = p_kind, p_atype, p_vis, p_eng
        p.lat, p.lon, p.coslat, p.radius = p_lat, p_lon, p_coslat, item.radius_km
        p.remote, p.accessible, p.cap_ok = item.remote, item.accessible, p_cap_ok
        p.cats, p.skills, p.reqs, p.langs = (
            item.categories, item.skills, item.requirements, item.languages)
        _, _, p.dates, p.weekly, p.has_sched, p.slots, p.nslots = schedule
        out.append(p)
    return out

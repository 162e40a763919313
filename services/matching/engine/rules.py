"""The matching rules: hard constraints and the explained score of an offer/need pair.

This is the ONLY place that decides whether a pair matches and what it scores. The
incremental engine (`engine.py`) and the brute-force oracle (`brute_force.py`) both call
`score()` / `explain()` from here; the engine's numpy pre-filter only narrows down which
pairs get asked, and is built to never drop a pair these rules would accept.

Hard constraints (a pair offer O / need N matches only if ALL hold):
 1. one offer, one need; different actor_id; both capacity_left > 0;
 2. visibility both ways: X sees Y if X.visibility == "state"; or "region" and Y.tenant is
    X.tenant or one of its neighbours; or "tenant" and Y.tenant == X.tenant;
 3. haversine distance <= min(O.radius_km, N.radius_km), unless O or N is remote;
 4. if both have a schedule (dates or weekly windows), at least one overlap of positive
    length: date/date as UTC intervals, weekly/weekly on the same weekday, date/weekly by
    converting each weekly occurrence (Europe/Berlin wall clock, zoneinfo, fold=0) to UTC;
 5. N.requirements is a subset of O.requirements;
 6. at least one common category.

Score in [0, 1] = sum(weight_f * factor_f) / sum(weights), rounded to 6 decimals, with the
weights of the NEED's tenant and these factors, each in [0, 1]:
 - categories: Jaccard |O.cat & N.cat| / |O.cat | N.cat|;
 - skills: |O.skills & N.skills| / |N.skills|, 1.0 when the need asks for no skills;
 - distance: exp(-d / 10 km); 1.0 when either side is remote; when either side is a person's
   item, d counts in whole km rounded up, at least 1 (platform_common.privacy), so that the
   score and the explanation do not reveal the person's point (constraint 3 stays exact);
 - schedule: 1.0 when either side has no schedule; else the overlap coefficient of the
   two weekly hour grids: each side's schedule is mapped to the set of (weekday, hour)
   slots of Europe/Berlin local time it touches (168 slots; a one-off date touches the
   slots of the local hours it covers, a date of 7 days or more touches all), and the
   factor is |S_O & S_N| / min(|S_O|, |S_N|). (Around the spring DST gap a weekly window
   touching Sunday 02:00-03:00 also touches Sunday 03:00-04:00.) Hour granularity keeps it
   deterministic and cheap; the hard constraint above stays minute-exact;
 - engagement: `ENGAGEMENT_FIT` table (1.0 when equal);
 - language: 1.0 when either side lists no language or they share one, else 0.0;
 - accessibility: 0.0 when the need needs accessibility and the offer is not accessible,
   else 1.0;
 - actor_type: `ACTOR_TYPE_FIT[offer actor type][need actor type]`.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Iterable
from zoneinfo import ZoneInfo

from platform_common.privacy import is_private, public_distance_km
from platform_common.vocabulary import CATEGORIES

from .model import (
    ACTOR_TYPES,
    ENGAGEMENTS,
    FACTORS,
    VISIBILITIES,
    Item,
    Match,
    Reason,
    TenantInfo,
)

BERLIN = ZoneInfo("Europe/Berlin")
EARTH_RADIUS_KM = 6371.0088
DISTANCE_SCALE_KM = 10.0
SCORE_DECIMALS = 6

OFFER, NEED = 0, 1
VIS_TENANT, VIS_REGION, VIS_STATE = (VISIBILITIES.index(v) for v in ("tenant", "region", "state"))

HOURS_PER_WEEK = 168
ALL_SLOTS = (1 << HOURS_PER_WEEK) - 1
_SUNDAY_DST_HOUR_BIT = 1 << (6 * 24 + 2)
_SUNDAY_AFTER_DST_HOUR_BIT = 1 << (6 * 24 + 3)
_WEEK_SECONDS = 7 * 86400.0
_ALWAYS_OVERLAPS_SECONDS = 15 * 86400.0

# Engagement fit, symmetric; indices follow model.ENGAGEMENTS (spontaneous, regular, project).
ENGAGEMENT_FIT: tuple[tuple[float, ...], ...] = (
    (1.0, 0.3, 0.5),
    (0.3, 1.0, 0.7),
    (0.5, 0.7, 1.0),
)

# Actor-type fit: rows = the offer's actor type, columns = the need's actor type, both in
# the order of model.ACTOR_TYPES (person, association, initiative, education, company).
ACTOR_TYPE_FIT: tuple[tuple[float, ...], ...] = (
    (0.8, 1.0, 1.0, 0.9, 0.5),  # a person offers help
    (0.9, 1.0, 1.0, 1.0, 0.6),  # an association (Verein) offers
    (0.9, 1.0, 1.0, 1.0, 0.6),  # an initiative offers
    (0.8, 1.0, 1.0, 1.0, 0.6),  # an educational institution offers
    (0.6, 1.0, 1.0, 1.0, 0.4),  # a company offers (CSR)
)

# The platform's controlled vocabulary, so reasons name the same fields users picked.
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    category: (labels["de"], labels["en"]) for category, labels in CATEGORIES.items()
}
LANGUAGE_LABELS: dict[str, tuple[str, str]] = {
    "de": ("Deutsch", "German"),
    "en": ("Englisch", "English"),
    "tr": ("Türkisch", "Turkish"),
    "ar": ("Arabisch", "Arabic"),
    "uk": ("Ukrainisch", "Ukrainian"),
    "ru": ("Russisch", "Russian"),
    "pl": ("Polnisch", "Polish"),
    "fr": ("Französisch", "French"),
    "es": ("Spanisch", "Spanish"),
    "it": ("Italienisch", "Italian"),
    "nl": ("Niederländisch", "Dutch"),
}
ACTOR_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "person": ("Privatperson", "individual"),
    "association": ("Verein", "association"),
    "initiative": ("Initiative", "initiative"),
    "education": ("Bildungseinrichtung", "educational institution"),
    "company": ("Unternehmen", "company"),
}
ENGAGEMENT_LABELS: dict[str, tuple[str, str]] = {
    "spontaneous": ("spontan", "spontaneous"),
    "regular": ("regelmäßig", "regular"),
    "project": ("Projekt", "project"),
}


# --------------------------------------------------------------------------- tenants


class TenantDirectory:
    """Tenants known to a matcher: neighbours (regions) and weights.

    An item may name a tenant that was never registered: it then has no neighbours and
    the default `Weights`.
    """

    def __init__(self, tenants: dict[str, TenantInfo] | Iterable[TenantInfo] | None = None):
        self._infos: dict[str, TenantInfo] = {}
        self._regions: dict[str, frozenset[str]] = {}
        self._weights: dict[str, tuple[tuple[float, ...], float]] = {}
        if tenants:
            values = tenants.values() if isinstance(tenants, dict) else tenants
            for info in values:
                self.upsert(info)

    def upsert(self, info: TenantInfo) -> None:
        self._infos[info.id] = info
        self._regions.pop(info.id, None)
        self._weights.pop(info.id, None)

    def copy(self) -> "TenantDirectory":
        return TenantDirectory(dict(self._infos))

    def known(self) -> list[str]:
        return list(self._infos)

    def get(self, tenant: str) -> TenantInfo:
        info = self._infos.get(tenant)
        return info if info is not None else TenantInfo(tenant)

    def region(self, tenant: str) -> frozenset[str]:
        """The tenant itself and its neighbours."""
        region = self._regions.get(tenant)
        if region is None:
            region = frozenset({tenant}) | self.get(tenant).neighbours
            self._regions[tenant] = region
        return region

    def weights(self, tenant: str) -> tuple[tuple[float, ...], float]:
        """(weights in FACTORS order, their sum) of a tenant."""
        w = self._weights.get(tenant)
        if w is None:
            values = self.get(tenant).weights.as_tuple()
            w = (values, math.fsum(values))
            self._weights[tenant] = w
        return w


# --------------------------------------------------------------------------- prepared items


class Prepared:
    """An item with everything the rules need precomputed (radians, merged schedules, slots)."""

    __slots__ = (
        "item", "id", "version", "kind", "actor_id", "atype", "tenant", "vis", "lat", "lon",
        "coslat", "radius", "remote", "cats", "skills", "reqs", "langs", "eng", "accessible",
        "cap_ok", "has_sched", "dates", "weekly", "slots", "nslots",
    )

    def __init__(self, item: Item):
        self.item = item
        self.id = item.id
        self.version = item.version
        self.kind = OFFER if item.kind == "offer" else NEED
        self.actor_id = item.actor_id
        self.atype = ACTOR_TYPES.index(item.actor_type)
        self.tenant = item.tenant
        self.vis = VISIBILITIES.index(item.visibility)
        self.lat = math.radians(item.lat)
        self.lon = math.radians(item.lon)
        self.coslat = math.cos(self.lat)
        self.radius = item.radius_km
        self.remote = item.remote
        self.cats = item.categories
        self.skills = item.skills
        self.reqs = item.requirements
        self.langs = item.languages
        self.eng = ENGAGEMENTS.index(item.engagement)
        self.accessible = item.accessible
        self.cap_ok = item.capacity_left > 0
        self.dates = _merge((s.timestamp(), e.timestamp()) for s, e in item.dates)
        per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for weekday, start, end in item.weekly:
            per_day[weekday].append((start, end))
        self.weekly = tuple(_merge(day) for day in per_day)
        self.has_sched = bool(self.dates) or any(self.weekly)
        self.slots = _weekly_slots(self.weekly) | _date_slots(self.dates) if self.has_sched else 0
        self.nslots = self.slots.bit_count()


def prepare(item: Item) -> Prepared:
    return Prepared(item)


def _merge(intervals: Iterable[tuple]) -> tuple:
    ordered = sorted(intervals)
    merged: list[list] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


# --------------------------------------------------------------------------- schedules


def _weekly_slots(weekly: tuple) -> int:
    bits = 0
    for weekday, windows in enumerate(weekly):
        for start, end in windows:
            for hour in range(start // 60, (end + 59) // 60):
                bits |= 1 << (weekday * 24 + hour)
    if bits & _SUNDAY_DST_HOUR_BIT:
        # Spring DST gap: a Sunday window touching 02:00-03:00 (wall clock) really happens
        # in the 03:00-04:00 hour on that day; keep the slot grid a superset of real time.
        bits |= _SUNDAY_AFTER_DST_HOUR_BIT
    return bits


def _date_slots(dates: tuple) -> int:
    bits = 0
    for start, end in dates:
        if end - start >= _WEEK_SECONDS:
            return ALL_SLOTS
        # Europe/Berlin offsets are whole hours, so each UTC hour is one local hour.
        hour = math.floor(start / 3600.0) * 3600.0
        while hour < end:
            local = datetime.fromtimestamp(hour, BERLIN)
            bits |= 1 << (local.weekday() * 24 + local.hour)
            hour += 3600.0
    return bits


@lru_cache(maxsize=65536)
def _local_ts(day_ordinal: int, minute: int) -> float:
    """UTC timestamp of `minute` after local midnight (wall clock, fold=0) on that day."""
    day = date.fromordinal(day_ordinal)
    wall = datetime(day.year, day.month, day.day, tzinfo=BERLIN) + timedelta(minutes=minute)
    return wall.timestamp()


def _dates_overlap(a: tuple, b: tuple) -> bool:
    i = j = 0
    while i < len(a) and j < len(b):
        (s1, e1), (s2, e2) = a[i], b[j]
        if s1 < e2 and s2 < e1:
            return True
        if e1 <= e2:
            i += 1
        else:
            j += 1
    return False


def _weekly_overlap(a: tuple, b: tuple) -> bool:
    for day in range(7):
        for s1, e1 in a[day]:
            for s2, e2 in b[day]:
                if s1 < e2 and s2 < e1:
                    return True
    return False


def _date_weekly_overlap(dates: tuple, weekly: tuple) -> bool:
    if not any(weekly):
        return False
    for start, end in dates:
        if end - start > _ALWAYS_OVERLAPS_SECONDS:
            return True  # every weekday occurs at least twice, at most once on a DST day
        first = datetime.fromtimestamp(start, BERLIN).date().toordinal()
        last = datetime.fromtimestamp(end, BERLIN).date().toordinal()
        for ordinal in range(first, last + 1):
            for w_start, w_end in weekly[date.fromordinal(ordinal).weekday()]:
                if _local_ts(ordinal, w_start) < end and start < _local_ts(ordinal, w_end):
                    return True
    return False


def schedules_overlap(a: Prepared, b: Prepared) -> bool:
    """Hard constraint 4 (true when either side has no schedule)."""
    if not (a.has_sched and b.has_sched):
        return True
    if a.dates and b.dates and _dates_overlap(a.dates, b.dates):
        return True
    if _weekly_overlap(a.weekly, b.weekly):
        return True
    if a.dates and _date_weekly_overlap(a.dates, b.weekly):
        return True
    if b.dates and _date_weekly_overlap(b.dates, a.weekly):
        return True
    return False


# --------------------------------------------------------------------------- constraints


def sees(x: Prepared, y: Prepared, tenants: TenantDirectory) -> bool:
    """Whether x's visibility lets it see y."""
    if x.vis == VIS_STATE:
        return True
    if x.vis == VIS_REGION:
        return y.tenant in tenants.region(x.tenant)
    return y.tenant == x.tenant


def distance_km(a: Prepared, b: Prepared) -> float:
    """Haversine distance on a sphere of radius EARTH_RADIUS_KM."""
    s_lat = math.sin((b.lat - a.lat) * 0.5)
    s_lon = math.sin((b.lon - a.lon) * 0.5)
    h = s_lat * s_lat + a.coslat * b.coslat * s_lon * s_lon
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def _check(o: Prepared, n: Prepared, tenants: TenantDirectory) -> float | None:
    """All hard constraints for an (offer, need): the distance in km (-1.0 when remote) or None."""
    if not (o.cap_ok and n.cap_ok) or o.actor_id == n.actor_id:
        return None
    if o.cats.isdisjoint(n.cats):
        return None
    if not n.reqs <= o.reqs:
        return None
    if not (sees(o, n, tenants) and sees(n, o, tenants)):
        return None
    if o.remote or n.remote:
        dist = -1.0
    else:
        dist = distance_km(o, n)
        if dist > o.radius or dist > n.radius:
            return None
    if o.has_sched and n.has_sched and not schedules_overlap(o, n):
        return None
    return dist


def _roles(a: Prepared, b: Prepared) -> tuple[Prepared, Prepared] | None:
    if a.kind == b.kind:
        return None
    return (a, b) if a.kind == OFFER else (b, a)


def is_match(a: Prepared, b: Prepared, tenants: TenantDirectory) -> bool:
    roles = _roles(a, b)
    return roles is not None and _check(roles[0], roles[1], tenants) is not None


# --------------------------------------------------------------------------- factors and score


# Actor types whose point is private (platform_common.privacy): persons.
_PRIVATE_ATYPES = frozenset(i for i, name in enumerate(ACTOR_TYPES) if is_private(name))


def _public_distance(o: Prepared, n: Prepared, dist: float) -> float:
    """The distance the score and the explanation use. The hard constraint above used the exact
    one; a pair with a person's item counts (and shows) it in whole km, rounded up, so that
    neither the label nor the score reveals the person's point. Rounding up keeps the factor
    below the engine's distance bound."""
    if dist >= 0.0 and _private_pair(o, n):
        return public_distance_km(dist)
    return dist


def _private_pair(o: Prepared, n: Prepared) -> bool:
    return o.atype in _PRIVATE_ATYPES or n.atype in _PRIVATE_ATYPES


def _factor_values(o: Prepared, n: Prepared, dist: float) -> tuple[float, ...]:
    cats = len(o.cats & n.cats) / len(o.cats | n.cats)
    skills = len(o.skills & n.skills) / len(n.skills) if n.skills else 1.0
    distance = 1.0 if dist < 0.0 else math.exp(-dist / DISTANCE_SCALE_KM)
    if o.has_sched and n.has_sched:
        schedule = (o.slots & n.slots).bit_count() / min(o.nslots, n.nslots)
    else:
        schedule = 1.0
    engagement = ENGAGEMENT_FIT[o.eng][n.eng]
    language = 1.0 if (not o.langs or not n.langs or not o.langs.isdisjoint(n.langs)) else 0.0
    accessibility = 0.0 if (n.accessible and not o.accessible) else 1.0
    actor = ACTOR_TYPE_FIT[o.atype][n.atype]
    return (cats, skills, distance, schedule, engagement, language, accessibility, actor)


def _combine(values: tuple[float, ...], weights: tuple[tuple[float, ...], float]) -> float:
    w, total = weights
    raw = (
        w[0] * values[0] + w[1] * values[1] + w[2] * values[2] + w[3] * values[3]
        + w[4] * values[4] + w[5] * values[5] + w[6] * values[6] + w[7] * values[7]
    )
    return round(raw / total, SCORE_DECIMALS)


def score(a: Prepared, b: Prepared, tenants: TenantDirectory) -> float | None:
    """The score of the pair (either order), or None when a hard constraint fails."""
    roles = _roles(a, b)
    if roles is None:
        return None
    o, n = roles
    dist = _check(o, n, tenants)
    if dist is None:
        return None
    dist = _public_distance(o, n, dist)
    return _combine(_factor_values(o, n, dist), tenants.weights(n.tenant))


def rank_key(score_value: float, counterpart_id: str) -> tuple[float, str]:
    """Order of counterparts in a top-K list: score desc, then counterpart id asc."""
    return (-score_value, counterpart_id)


# --------------------------------------------------------------------------- explanations


def _de_number(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _labels(codes: Iterable[str], table: dict[str, tuple[str, str]]) -> tuple[list[str], list[str]]:
    pairs = sorted(table.get(code, (code, code)) + (code,) for code in codes)
    return [p[0] for p in pairs], [p[1] for p in pairs]


# Explanations are built for every pair a diff reports; their parts repeat a lot, so the
# label texts and Reason objects are memoised (bounded caches; pure functions of the keys).
_CACHE_LIMIT = 100_000
_label_cache: dict[tuple, tuple[str, str]] = {}
_reason_cache: dict[tuple, Reason] = {}


def _category_label(common: frozenset[str]) -> tuple[str, str]:
    de, en = _labels(common, CATEGORY_LABELS)
    if len(common) == 1:
        return (f"1 gemeinsames Handlungsfeld: {de[0]}", f"1 shared field: {en[0]}")
    return (f"{len(common)} gemeinsame Handlungsfelder: {', '.join(de)}",
            f"{len(common)} shared fields: {', '.join(en)}")


def _skills_label(have: frozenset[str], wanted: int) -> tuple[str, str]:
    if not wanted:
        return ("Keine besonderen Fähigkeiten gesucht", "No particular skills requested")
    if not have:
        return (f"Keine der {wanted} gesuchten Fähigkeiten", f"None of the {wanted} requested skills")
    names = ", ".join(sorted(have))
    return (f"{len(have)} von {wanted} gesuchten Fähigkeiten: {names}",
            f"{len(have)} of {wanted} requested skills: {names}")


def _engagement_label(eng_o: int, eng_n: int) -> tuple[str, str]:
    o, n = ENGAGEMENT_LABELS[ENGAGEMENTS[eng_o]], ENGAGEMENT_LABELS[ENGAGEMENTS[eng_n]]
    if eng_o == eng_n:
        return (f"Gleiche Engagementform: {o[0]}", f"Same engagement type: {o[1]}")
    return (f"Engagementform: {o[0]} (Angebot), {n[0]} (Bedarf)", f"Engagement: {o[1]} (offer) vs {n[1]} (need)")


def _language_label(o_langs: frozenset[str], n_langs: frozenset[str]) -> tuple[str, str]:
    if not o_langs or not n_langs:
        return ("Keine Sprachvorgabe", "No language requirement")
    shared = o_langs & n_langs
    if not shared:
        return ("Keine gemeinsame Sprache", "No shared language")
    de, en = _labels(shared, LANGUAGE_LABELS)
    return (f"Gemeinsame Sprache: {', '.join(de)}", f"Shared language: {', '.join(en)}")


def _actor_label(atype_o: int, atype_n: int) -> tuple[str, str]:
    o, n = ACTOR_TYPE_LABELS[ACTOR_TYPES[atype_o]], ACTOR_TYPE_LABELS[ACTOR_TYPES[atype_n]]
    return (f"{o[0]} hilft {n[0]}", f"{o[1]} helps {n[1]}")


_ACCESS_LABELS = (
    ("Keine Barrierefreiheit benötigt", "No accessibility needed"),
    ("Barrierefreiheit benötigt, aber nicht gegeben", "Accessibility needed but not provided"),
    ("Barrierefrei wie benötigt", "Wheelchair accessible as needed"),
)
_FLEXIBLE = ("Zeitlich flexibel", "Flexible timing")
_REMOTE = ("Ortsunabhängig (remote)", "Remote, no travel needed")


def _label(key: tuple, make, *args) -> tuple[str, str]:
    """A label from the cache, made by `make(*args)` when missing (no closure per call)."""
    label = _label_cache.get(key)
    if label is None:
        if len(_label_cache) >= _CACHE_LIMIT:
            _label_cache.clear()
        label = _label_cache[key] = make(*args)
    return label


def _schedule_label(pct: int) -> tuple[str, str]:
    return (f"Zeiten überschneiden sich zu {pct} %", f"Schedules overlap {pct}%")


def _reason_labels(o: Prepared, n: Prepared, dist: float, values: tuple[float, ...]) -> list[tuple[str, str]]:
    common = o.cats & n.cats
    have = o.skills & n.skills
    if dist < 0.0:
        distance = _REMOTE
    elif _private_pair(o, n):
        distance = (f"bis {dist:.0f} km entfernt", f"within {dist:.0f} km")  # whole km, see above
    else:
        distance = (f"{_de_number(dist)} km entfernt", f"{dist:.1f} km away")
    if o.has_sched and n.has_sched:
        pct = round(values[3] * 100)
        schedule = _label(("s", pct), _schedule_label, pct)
    else:
        schedule = _FLEXIBLE
    if n.accessible:
        access = _ACCESS_LABELS[2] if o.accessible else _ACCESS_LABELS[1]
    else:
        access = _ACCESS_LABELS[0]
    wanted = len(n.skills)
    return [
        _label(("c", common), _category_label, common),
        _label(("k", have, wanted), _skills_label, have, wanted),
        distance,
        schedule,
        _label(("e", o.eng, n.eng), _engagement_label, o.eng, n.eng),
        _label(("l", o.langs, n.langs), _language_label, o.langs, n.langs),
        access,
        _label(("a", o.atype, n.atype), _actor_label, o.atype, n.atype),
    ]


def _reason(i: int, value: float, weight: float, total: float, label: tuple[str, str]) -> Reason:
    # Keyed by the raw value: a hit needs no rounding (the Reason holds the rounded numbers).
    key = (i, value, weight, total, label)
    reason = _reason_cache.get(key)
    if reason is None:
        if len(_reason_cache) >= _CACHE_LIMIT:
            _reason_cache.clear()
        reason = _reason_cache[key] = Reason(
            FACTORS[i], round(value, SCORE_DECIMALS), weight,
            round(weight * value / total, SCORE_DECIMALS), label[0], label[1])
    return reason


def explain(a: Prepared, b: Prepared, tenants: TenantDirectory) -> Match | None:
    """The explained Match of the pair (either order), or None when it does not match.

    The score is computed exactly like `score()` (same factor values, same sum).
    """
    roles = _roles(a, b)
    if roles is None:
        return None
    o, n = roles
    dist = _check(o, n, tenants)
    if dist is None:
        return None
    dist = _public_distance(o, n, dist)
    values = _factor_values(o, n, dist)
    weights = tenants.weights(n.tenant)
    w, total = weights
    labels = _reason_labels(o, n, dist, values)
    reasons = (
        _reason(0, values[0], w[0], total, labels[0]), _reason(1, values[1], w[1], total, labels[1]),
        # A distance is (nearly) unique per pair: made directly, it would only churn the cache.
        _reason(2, values[2], w[2], total, labels[2]) if dist < 0.0 else Reason(
            FACTORS[2], round(values[2], SCORE_DECIMALS), w[2],
            round(w[2] * values[2] / total, SCORE_DECIMALS), labels[2][0], labels[2][1]),
        _reason(3, values[3], w[3], total, labels[3]),
        _reason(4, values[4], w[4], total, labels[4]), _reason(5, values[5], w[5], total, labels[5]),
        _reason(6, values[6], w[6], total, labels[6]), _reason(7, values[7], w[7], total, labels[7]),
    )
    return Match(o.id, n.id, _combine(values, weights), reasons)



"""Plain data of the matching engine: items, tenants, weights, matches and diffs.

Everything here is an immutable value (frozen dataclasses) except `Diff`, which is the
result of one event. No I/O, no clock, no randomness.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Iterable, Literal

Kind = Literal["offer", "need"]
ActorType = Literal["person", "association", "initiative", "education", "company"]
Visibility = Literal["tenant", "region", "state"]
Engagement = Literal["spontaneous", "regular", "project"]

KINDS: tuple[str, ...] = ("offer", "need")
ACTOR_TYPES: tuple[str, ...] = ("person", "association", "initiative", "education", "company")
VISIBILITIES: tuple[str, ...] = ("tenant", "region", "state")
ENGAGEMENTS: tuple[str, ...] = ("spontaneous", "regular", "project")

MIN_RADIUS_KM = 2.0
MAX_RADIUS_KM = 200.0
MINUTES_PER_DAY = 24 * 60


def _frozen_str_set(name: str, value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise TypeError(f"{name} must be a collection of strings, not a single string")
    result = frozenset(value)
    for element in result:
        if not isinstance(element, str) or not element:
            raise ValueError(f"{name} must contain non-empty strings, got {element!r}")
    return result


def _utc(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got a naive datetime")
    return value.astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Item:
    """An open offer or need of volunteering, as the matcher sees it.

    `requirements`: on a need, what the helper must have (e.g. police clearance
    certificate, driving licence); on an offer, what the offerer has or fulfils.
    `accessible`: on an offer, the place/activity is wheelchair accessible; on a need,
    the person needs accessibility. `languages` empty means "any language".
    `dates` are one-off UTC intervals [start, end); `weekly` are recurring local windows
    in Europe/Berlin: (weekday 0=Monday..6, start minute, end minute), end <= 1440.
    Collections are coerced to frozensets / tuples; invalid values raise ValueError.
    """

    id: str
    kind: Kind
    actor_id: str
    actor_type: ActorType
    tenant: str
    visibility: Visibility
    lat: float
    lon: float
    radius_km: float
    remote: bool = False
    categories: frozenset[str] = frozenset()
    skills: frozenset[str] = frozenset()
    requirements: frozenset[str] = frozenset()
    engagement: Engagement = "regular"
    languages: frozenset[str] = frozenset()
    accessible: bool = False
    dates: tuple[tuple[datetime, datetime], ...] = ()
    weekly: tuple[tuple[int, int, int], ...] = ()
    capacity_left: int = 1
    version: int = 1

    def __post_init__(self) -> None:
        put = object.__setattr__
        for name in ("id", "actor_id", "tenant"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.actor_type not in ACTOR_TYPES:
            raise ValueError(f"actor_type must be one of {ACTOR_TYPES}, got {self.actor_type!r}")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, got {self.visibility!r}")
        if self.engagement not in ENGAGEMENTS:
            raise ValueError(f"engagement must be one of {ENGAGEMENTS}, got {self.engagement!r}")
        lat, lon, radius = float(self.lat), float(self.lon), float(self.radius_km)
        if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
            raise ValueError(f"lat must be within [-90, 90], got {self.lat!r}")
        if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
            raise ValueError(f"lon must be within [-180, 180], got {self.lon!r}")
        if not (math.isfinite(radius) and MIN_RADIUS_KM <= radius <= MAX_RADIUS_KM):
            raise ValueError(
                f"radius_km must be within [{MIN_RADIUS_KM}, {MAX_RADIUS_KM}], got {self.radius_km!r}"
            )
        put(self, "lat", lat)
        put(self, "lon", lon)
        put(self, "radius_km", radius)
        put(self, "remote", bool(self.remote))
        put(self, "accessible", bool(self.accessible))
        for name in ("categories", "skills", "requirements", "languages"):
            put(self, name, _frozen_str_set(name, getattr(self, name)))
        dates = []
        for interval in self.dates:
            start, end = interval
            start, end = _utc("dates start", start), _utc("dates end", end)
            if not start < end:
                raise ValueError(f"a date interval must have start < end, got {start} .. {end}")
            dates.append((start, end))
        put(self, "dates", tuple(dates))
        weekly = []
        for window in self.weekly:
            weekday, start_minute, end_minute = (int(v) for v in window)
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be 0..6, got {weekday}")
            if not 0 <= start_minute < end_minute <= MINUTES_PER_DAY:
                raise ValueError(
                    f"weekly window needs 0 <= start < end <= 1440, got {start_minute}..{end_minute}"
                )
            weekly.append((weekday, start_minute, end_minute))
        put(self, "weekly", tuple(weekly))
        for name in ("capacity_left", "version"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")

    @property
    def has_schedule(self) -> bool:
        return bool(self.dates or self.weekly)


FACTORS: tuple[str, ...] = (
    "categories",
    "skills",
    "distance",
    "schedule",
    "engagement",
    "language",
    "accessibility",
    "actor_type",
)


@dataclass(frozen=True, slots=True)
class Weights:
    """Relative weights of the score factors (the NEED's tenant's weights apply)."""

    categories: float = 3.0
    skills: float = 2.0
    distance: float = 2.0
    schedule: float = 1.0
    engagement: float = 1.0
    language: float = 1.0
    accessibility: float = 1.0
    actor_type: float = 1.0

    def __post_init__(self) -> None:
        total = 0.0
        for f in fields(self):
            value = float(getattr(self, f.name))
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"weight {f.name} must be a finite number >= 0, got {value!r}")
            object.__setattr__(self, f.name, value)
            total += value
        if total <= 0:
            raise ValueError("at least one weight must be positive")

    def as_tuple(self) -> tuple[float, ...]:
        """The weights in the order of `FACTORS`."""
        return tuple(getattr(self, name) for name in FACTORS)


@dataclass(frozen=True, slots=True)
class TenantInfo:
    """A municipality: its neighbours (for "region" visibility) and its weights."""

    id: str
    neighbours: frozenset[str] = frozenset()
    weights: Weights = field(default_factory=Weights)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"tenant id must be a non-empty string, got {self.id!r}")
        object.__setattr__(self, "neighbours", _frozen_str_set("neighbours", self.neighbours))
        if not isinstance(self.weights, Weights):
            raise TypeError("weights must be a Weights instance")


@dataclass(frozen=True, slots=True)
class Reason:
    """One factor of a match's score, with human-readable labels (German, English)."""

    factor: str
    value: float
    weight: float
    contribution: float
    label_de: str
    label_en: str


@dataclass(frozen=True, slots=True)
class Match:
    """An explained suggestion: offer and need, score in [0, 1], reasons per factor."""

    offer_id: str
    need_id: str
    score: float
    reasons: tuple[Reason, ...]

    @property
    def pair(self) -> tuple[str, str]:
        return (self.offer_id, self.need_id)


def match_order(match: Match) -> tuple:
    """Deterministic order of matches in a diff: best first, then by ids."""
    return (-match.score, match.offer_id, match.need_id)


@dataclass(slots=True)
class Diff:
    """The change of the match set caused by one event.

    `found`: pairs that entered the match set, or whose Match (score or explanation)
    changed; `withdrawn`: pairs that left it (with the Match they had before).
    Both are sorted by (score desc, offer_id, need_id).
    """

    found: list[Match] = field(default_factory=list)
    withdrawn: list[Match] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.found and not self.withdrawn

    @staticmethod
    def between(before: dict[tuple[str, str], Match], after: dict[tuple[str, str], Match]) -> "Diff":
        """Diff of two (possibly partial) views of the match set keyed by (offer_id, need_id).

        Keys present in only one view count as entering / leaving; keys in both count as
        found when their Match differs. Callers pass views over the same set of pairs.
        """
        found = [m for key, m in after.items() if before.get(key) != m]
        withdrawn = [m for key, m in before.items() if key not in after]
        found.sort(key=match_order)
        withdrawn.sort(key=match_order)
        return Diff(found, withdrawn)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Shorthand for an aware UTC datetime (tests, benchmarks, fixtures)."""
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


DEFAULT_TOMBSTONE_RETENTION_S = 24 * 3600.0
DEFAULT_MAX_TOMBSTONES = 200_000


def event_seconds(at: datetime | float | int | None) -> float | None:
    """Event time as epoch seconds (an aware datetime or a number of seconds), or None."""
    if at is None:
        return None
    if isinstance(at, datetime):
        return _utc("at", at).timestamp()
    value = float(at)
    if not math.isfinite(value):
        raise ValueError(f"event time must be finite, got {at!r}")
    return value


class VersionLedger:
    """Idempotent redelivery: which upserts and removals to apply, by item version.

    - an upsert is applied only if its version is greater than the stored item's version,
      or (for an item not stored) greater than the version it was removed at;
    - a removal with a version older than the stored item's version is stale and ignored;
      a removal records a tombstone (item id -> version) so that a late redelivery of an
      older upsert cannot resurrect the item. Tombstones hold no personal data.

    Tombstones are pruned, oldest first, when either bound is passed:
    - `retention_s` of EVENT time (default 24 h): callers that pass event times (`at`, e.g.
      the Kafka record timestamp) advance a watermark, the largest time seen; a tombstone
      recorded before watermark - retention is dropped. No wall clock is read: a replay
      prunes exactly as the live run did. Without event times only the count bound acts.
    - `max_tombstones` (default 200,000): a hard memory bound (measured ~150 B per
      tombstone plus its id string, ~230 B for a UUID: ~45 MiB) whatever the clock does.
    A redelivery can only repeat events that are not yet committed (the consumer's
    uncommitted batch, a rebalance, a restart's replay from its snapshot offsets): minutes,
    at most hours. 24 h of event time covers that with a wide margin, and 200,000 closes
    last more than 30 minutes even at the pipeline's stress rate of 100 events/s
    (statewide, closes are far rarer). After the retention an older version could be
    resurrected by a redelivery; that is the accepted trade-off for bounded memory.
    `None` disables a bound.
    """

    __slots__ = ("_tombstones", "_retention", "_max", "_now")

    def __init__(self, retention_s: float | None = DEFAULT_TOMBSTONE_RETENTION_S,
                 max_tombstones: int | None = DEFAULT_MAX_TOMBSTONES) -> None:
        if retention_s is not None and not (retention_s >= 0 and math.isfinite(retention_s)):
            raise ValueError(f"retention_s must be a finite number >= 0, got {retention_s!r}")
        if max_tombstones is not None and max_tombstones < 0:
            raise ValueError(f"max_tombstones must be >= 0, got {max_tombstones!r}")
        # id -> (version, event time or None), in the order of recording (oldest first)
        self._tombstones: OrderedDict[str, tuple[int, float | None]] = OrderedDict()
        self._retention = None if retention_s is None else float(retention_s)
        self._max = max_tombstones
        self._now: float | None = None  # watermark: the largest event time seen

    def __len__(self) -> int:
        return len(self._tombstones)

    def tombstone(self, item_id: str) -> int | None:
        """The version an absent item was removed at, if still remembered."""
        entry = self._tombstones.get(item_id)
        return None if entry is None else entry[0]

    def observe(self, at: float | None) -> None:
        """Advance the event-time watermark and prune what fell out of the retention."""
        if at is None:
            return
        if self._now is None:
            # tombstones recorded before the first event time get that time
            tomb = self._tombstones
            for item_id, (version, _) in tomb.items():
                tomb[item_id] = (version, at)
        if self._now is None or at > self._now:
            self._now = at
            self._prune()

    def _prune(self) -> None:
        tomb = self._tombstones
        if self._max is not None:
            while len(tomb) > self._max:
                tomb.popitem(last=False)
        if self._retention is not None and self._now is not None:
            horizon = self._now - self._retention
            while tomb:
                t = tomb[next(iter(tomb))][1]
                if t is None or t >= horizon:
                    break  # recording order is time order (times are the watermark)
                tomb.popitem(last=False)

    def _record(self, item_id: str, version: int) -> None:
        tomb = self._tombstones
        if item_id in tomb:
            del tomb[item_id]
        tomb[item_id] = (version, self._now)
        self._prune()

    def admits_upsert(self, item_id: str, version: int, stored_version: int | None) -> bool:
        if stored_version is not None:
            return version > stored_version
        entry = self._tombstones.get(item_id)
        if entry is not None:
            if version <= entry[0]:
                return False
            del self._tombstones[item_id]
        return True

    def admits_remove(self, item_id: str, version: int | None, stored_version: int | None) -> bool:
        """Whether to remove the stored item (False when absent or stale); records a tombstone."""
        if stored_version is None:
            if version is not None:
                entry = self._tombstones.get(item_id)
                self._record(item_id, version if entry is None else max(version, entry[0]))
            return False
        if version is not None and version < stored_version:
            return False
        self._record(item_id, stored_version if version is None else version)
        return True

"""Realistic streams of tenants, offers and needs for the matcher's integration tests.

Tenants are real NRW municipalities (ids made unique per run); items spread around their
centres with a mix of radii, categories, schedules, visibility, requirements, languages and
actor types. Items only ever see their own run's tenants (no "state" visibility), so a test's
match set depends only on its own items, whatever else the session published.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from platform_common.events import Envelope, make_event
from platform_common.events.models import ItemData, TenantData
from services.matching.engine import BruteForceMatcher
from services.matching.translate import is_open, to_item, to_tenant
from platform_common.vocabulary import CATEGORIES, LANGUAGES, REQUIREMENTS

MUNICIPALITIES = {  # name: (lat, lon)
    "koeln": (50.9375, 6.9603), "bonn": (50.7374, 7.0982), "duesseldorf": (51.2277, 6.7735),
    "essen": (51.4556, 7.0116), "dortmund": (51.5136, 7.4653), "muenster": (51.9607, 7.6261),
    "bielefeld": (52.0302, 8.5325), "aachen": (50.7753, 6.0839),
}
NEIGHBOURS = [("koeln", "bonn"), ("koeln", "duesseldorf"), ("duesseldorf", "essen"),
              ("essen", "dortmund")]
SKILLS = ["einkaufen", "vorlesen", "kochen", "fahrrad", "garten", "nachhilfe", "computer",
          "handwerk", "musik", "erste_hilfe", "sprachen", "fahren"]
ACTOR_TYPES = ["person", "person", "person", "association", "initiative", "education", "company"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
KM_PER_DEG_LAT = 111.2


@dataclass
class Stream:
    """A run's tenants and item events, in publishing order, and what the oracle needs."""

    run: str
    tenants: list[TenantData]
    events: list[Envelope] = field(default_factory=list)
    latest: dict[str, ItemData] = field(default_factory=dict)

    def add(self, envelope: Envelope, data: ItemData) -> None:
        self.events.append(envelope)
        current = self.latest.get(data.id)
        if current is None or data.version > current.version:
            self.latest[data.id] = data

    @property
    def item_ids(self) -> set[str]:
        return set(self.latest)

    def oracle_pairs(self, k: int = 10) -> set[tuple[str, str]]:
        """The brute-force match set of this run's open items: {(offer_id, need_id)}."""
        oracle = BruteForceMatcher(k=k, tenants={t.id: to_tenant(t) for t in self.tenants})
        oracle.load(to_item(data) for data in self.latest.values() if is_open(data))
        return set(oracle.match_set())


def tenants_for(run: str, rng: random.Random) -> list[TenantData]:
    ids = {name: f"{run}-{name}" for name in MUNICIPALITIES}
    neighbours: dict[str, list[str]] = {name: [] for name in MUNICIPALITIES}
    for a, b in NEIGHBOURS:
        neighbours[a].append(ids[b])
        neighbours[b].append(ids[a])
    tenants = []
    for name, (lat, lon) in MUNICIPALITIES.items():
        weights = {"distance": 4.0, "schedule": 2.0} if name == "muenster" else {}
        tenants.append(TenantData(id=ids[name], name=name.capitalize(),
                                  center={"lat": lat, "lon": lon}, neighbours=neighbours[name],
                                  matching_weights=weights, version=1))
    return tenants


def random_item(rng: random.Random, tenant: TenantData, *, kind: str | None = None,
                now: datetime) -> ItemData:
    kind = kind or rng.choice(["offer", "need"])
    spread_km = rng.choice([3.0, 6.0, 10.0])
    lat = tenant.center.lat + rng.gauss(0, spread_km) / KM_PER_DEG_LAT
    lon = tenant.center.lon + rng.gauss(0, spread_km) / (KM_PER_DEG_LAT * 0.63)
    categories = rng.sample(sorted(CATEGORIES), rng.choice([1, 1, 2]))
    requirements = sorted(REQUIREMENTS)
    if kind == "need":
        wanted = rng.sample(requirements, 1) if rng.random() < 0.2 else []
    else:
        wanted = rng.sample(requirements, rng.choice([0, 1, 2, 3]))
    schedule: dict = {"dates": [], "weekly": []}
    shape = rng.random()
    if shape < 0.4:
        for day in rng.sample(WEEKDAYS, rng.choice([1, 2, 3])):
            start = rng.choice([8, 9, 10, 14, 16, 18])
            schedule["weekly"].append({"day": day, "start": f"{start:02d}:00",
                                       "end": f"{start + rng.choice([2, 3, 4]):02d}:00"})
    elif shape < 0.5:
        start = (now + timedelta(days=rng.randint(1, 30))).replace(
            hour=rng.choice([8, 10, 14]), minute=0, second=0, microsecond=0)
        schedule["dates"].append({"start": start.isoformat(),
                                  "end": (start + timedelta(hours=rng.choice([3, 6]))).isoformat()})
    languages = rng.choice([["de"], ["de"], ["de"], ["de", "en"], [], ["tr", "de"],
                            [rng.choice(sorted(LANGUAGES))]])
    item_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return ItemData(
        id=item_id, kind=kind, tenant=tenant.id,
        actor_id=f"actor-{rng.randrange(10**9)}", actor_type=rng.choice(ACTOR_TYPES),
        title=f"{'Angebot' if kind == 'offer' else 'Gesucht'}: {', '.join(categories)}",
        categories=categories, skills=rng.sample(SKILLS, rng.choice([0, 1, 2])),
        requirements=wanted, engagement=rng.choice(["spontaneous", "regular", "project"]),
        location={"lat": lat, "lon": lon}, radius_km=rng.choice([2, 3, 5, 5, 8, 12]),
        remote=rng.random() < 0.03, schedule=schedule, capacity=2,
        capacity_left=0 if rng.random() < 0.02 else rng.choice([1, 2]),
        visibility=rng.choice(["tenant", "tenant", "region"]), languages=languages,
        accessible=rng.random() < 0.1, status="published", created_at=now, updated_at=now,
        version=1)


def item_event(data: ItemData, action: str) -> Envelope:
    return make_event(f"{data.kind}.{action}", tenant=data.tenant, subject=data.id,
                      source="matching-tests", data=data)


def tenant_event(data: TenantData) -> Envelope:
    return make_event("tenant.created", tenant=data.id, subject=data.id, source="matching-tests",
                      data=data)


def build_stream(count: int, *, seed: int, close_share: float = 0.05) -> Stream:
    """`count` published items in random order, and closes of `close_share` of them later."""
    rng = random.Random(seed)
    run = f"m{uuid.uuid4().hex[:6]}"
    stream = Stream(run=run, tenants=tenants_for(run, rng))
    now = datetime.now(timezone.utc)
    published: list[ItemData] = []
    for _ in range(count):
        data = random_item(rng, rng.choice(stream.tenants), now=now)
        stream.add(item_event(data, "published"), data)
        published.append(data)
        if rng.random() < close_share and len(published) > 20:
            # Close one of the earlier items (a need filled, an offer withdrawn).
            victim = published.pop(rng.randrange(len(published) - 10))
            closed = victim.model_copy(update={"status": "closed", "version": victim.version + 1,
                                               "updated_at": now})
            stream.add(item_event(closed, "closed"), closed)
    return stream

"""The stored entities (what profiles keeps in MongoDB) and every change to them, as pure
functions returning new versions; `mapping.py` turns them into event payloads and API views.

The records are this service's own models, not the published contract: a field added here is
a storage change only, until the mapping puts it on the wire. Field names are those of the
stored documents (the first versions stored the event payloads), so no migration is needed.
Each change increments `version` and sets `updated_at`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from services.profiles.domain import rules
from services.profiles.domain.requests import ActorCreate, ItemCreate, TenantCreate

ERASED_TITLE = "Gelöscht"

ActorType = Literal["person", "association", "initiative", "education", "company"]
ItemKind = Literal["offer", "need"]
ItemStatus = Literal["published", "closed", "expired", "hidden", "paused"]


class Stored(BaseModel):
    # Documents written by older versions may carry fields this one no longer keeps.
    model_config = ConfigDict(extra="ignore")


class Point(Stored):
    lat: float
    lon: float


class LocalText(Stored):
    de: str = ""
    en: str = ""


class TenantBranding(Stored):
    display_name: str | None = None
    primary_color: str | None = None
    secondary_color: str | None = None
    text_color: str | None = None
    background_color: str | None = None
    logo_url: str | None = None
    welcome_text: LocalText | None = None
    impressum: LocalText | None = None
    datenschutz: LocalText | None = None


class Tenant(Stored):
    id: str
    name: str
    center: Point
    neighbours: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    branding: TenantBranding = Field(default_factory=TenantBranding)
    matching_weights: dict[str, float] = Field(default_factory=dict)
    # The volunteer card's threshold (Ehrenamtskarte): profiles' own setting, not in the
    # tenant's events (mapping.tenant_view shows it).
    volunteer_card_hours_per_year: int = 250
    version: int
    created_at: datetime
    updated_at: datetime


class Actor(Stored):
    id: str
    tenant: str
    type: ActorType
    name: str
    location: Point
    place_name: str | None = None
    email: str | None = None
    locale: Literal["de", "en"] = "de"
    owners: list[str] = Field(default_factory=list)
    logo_url: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class DateSlot(Stored):
    start: datetime
    end: datetime


class WeeklySlot(Stored):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    start: str  # "HH:MM", Europe/Berlin local time
    end: str


class ItemSchedule(Stored):
    dates: list[DateSlot] = Field(default_factory=list)
    weekly: list[WeeklySlot] = Field(default_factory=list)


class Item(Stored):
    """An offer or a need as stored."""

    id: str
    kind: ItemKind
    tenant: str
    actor_id: str
    actor_type: ActorType
    title: str
    description: str = ""
    categories: list[str]
    skills: list[str] = Field(default_factory=list)
    requirements: list[str] = Field(default_factory=list)
    engagement: Literal["spontaneous", "regular", "project"]
    location: Point
    place_name: str | None = None
    radius_km: float
    remote: bool = False
    schedule: ItemSchedule = Field(default_factory=ItemSchedule)
    capacity: int = 1
    capacity_left: int = 1
    visibility: Literal["tenant", "region", "state"] = "tenant"
    languages: list[str] = Field(default_factory=list)
    accessible: bool = False
    status: ItemStatus = "published"
    # Why a moderator hid the item (status "hidden"), for telling its owners; else None.
    hidden_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    version: int


R = TypeVar("R", Tenant, Actor, Item)


def _changed(record: R, changes: dict, *, now: datetime) -> R:
    """A validated copy with `changes` applied and the next version."""
    data = {**record.model_dump(), **changes, "version": record.version + 1, "updated_at": now}
    return type(record).model_validate(data)


def _same_content(a: BaseModel, b: BaseModel) -> bool:
    ignore = {"version", "updated_at"}
    return a.model_dump(exclude=ignore) == b.model_dump(exclude=ignore)


# ---- tenants ---------------------------------------------------------------------------------
def new_tenant(request: TenantCreate, *, now: datetime) -> Tenant:
    return Tenant.model_validate({**request.model_dump(), "version": 1,
                                  "created_at": now, "updated_at": now})


def patched_tenant(tenant: Tenant, changes: dict, *, now: datetime) -> Tenant | None:
    """The tenant after a PATCH, or None when nothing changes."""
    updated = _changed(tenant, changes, now=now)
    return None if _same_content(tenant, updated) else updated


def with_neighbour(tenant: Tenant, other: str, *, present: bool, now: datetime) -> Tenant | None:
    """`tenant` with `other` added to (or removed from) its neighbours; None when already so."""
    if (other in tenant.neighbours) == present:
        return None
    neighbours = [*tenant.neighbours, other] if present else \
        [n for n in tenant.neighbours if n != other]
    return _changed(tenant, {"neighbours": neighbours}, now=now)


# ---- actors ----------------------------------------------------------------------------------
def new_actor(request: ActorCreate, *, actor_id: str, tenant: str, owner: str,
              now: datetime) -> Actor:
    return Actor.model_validate({**request.model_dump(), "id": actor_id, "tenant": tenant,
                                 "owners": [owner], "version": 1,
                                 "created_at": now, "updated_at": now})


def patched_actor(actor: Actor, changes: dict, *, now: datetime) -> Actor | None:
    updated = _changed(actor, changes, now=now)
    return None if _same_content(actor, updated) else updated


def with_owner(actor: Actor, sub: str, *, present: bool, now: datetime) -> Actor | None:
    if (sub in actor.owners) == present:
        return None
    owners = [*actor.owners, sub] if present else [o for o in actor.owners if o != sub]
    return _changed(actor, {"owners": owners}, now=now)


# ---- offers and needs ------------------------------------------------------------------------
def new_item(request: ItemCreate, *, item_id: str, kind: ItemKind, actor: Actor,
             now: datetime) -> Item:
    data = request.model_dump()
    return Item.model_validate({
        **data, "id": item_id, "kind": kind, "tenant": actor.tenant, "actor_type": actor.type,
        "capacity_left": request.capacity, "status": "published",
        "expires_at": rules.expiry_of(data["schedule"], renewed_at=now),
        "version": 1, "created_at": now, "updated_at": now,
    })


def patched_item(item: Item, changes: dict, *, now: datetime) -> Item | None:
    """The item after a PATCH, or None when nothing changes."""
    changes = dict(changes)
    if "capacity" in changes:
        # Places already taken stay taken when the capacity changes.
        taken = item.capacity - item.capacity_left
        changes["capacity_left"] = max(0, changes["capacity"] - taken)
    updated = _changed(item, changes, now=now)
    if _same_content(item, updated):
        return None
    # A change by its owners renews an ongoing item (and a new schedule has a new end).
    return updated.model_copy(update={
        "expires_at": rules.expiry_of(updated.schedule.model_dump(), renewed_at=now)})


def renewed(item: Item, *, now: datetime) -> Item:
    """`item` with its end computed afresh as of `now` (its owners resume it)."""
    return item.model_copy(update={
        "expires_at": rules.expiry_of(item.schedule.model_dump(), renewed_at=now)})


def with_status(item: Item, status: ItemStatus, *, now: datetime,
                reason: str | None = None, lapsed: bool = False) -> Item:
    """`lapsed`: its owners resume an ongoing item that expired (rules.ONGOING_LIFETIME), the
    one way back from `expired`."""
    if not (lapsed and item.status == "expired" and status == "published"):
        rules.check_transition(item.status, status)
    changes: dict = {"status": status}
    if reason is not None:
        changes["hidden_reason"] = reason
    elif status == "published":
        changes["hidden_reason"] = None  # unhidden: the reason no longer applies
    return _changed(item, changes, now=now)


def erased_item(item: Item, *, location: dict, now: datetime) -> Item:
    """An item of an erased person or closed organisation: closed, its free text and place
    removed."""
    return _changed(item, {
        "status": "closed" if item.status == "published" else item.status,
        "title": ERASED_TITLE, "description": "", "skills": [], "place_name": None,
        "location": location, "hidden_reason": None,
    }, now=now)

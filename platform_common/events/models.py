"""Payloads (`data`) of every event type, defined once for all producers and consumers.

Entity events carry the full snapshot of the entity after the change together with its
`version`, so consumers can apply them idempotently: an event whose version is not newer than
what a consumer already holds is ignored.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ActorType = Literal["person", "association", "initiative", "education", "company"]
ItemKind = Literal["offer", "need"]
# paused: its owner took it out of search and matching for a while (and can resume it).
ItemStatus = Literal["published", "closed", "expired", "hidden", "paused"]
Visibility = Literal["tenant", "region", "state"]
Engagement = Literal["spontaneous", "regular", "project"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class GeoPoint(Payload):
    lat: float
    lon: float


class BrandingText(Payload):
    de: str = ""
    en: str = ""


class Branding(Payload):
    display_name: str | None = None
    primary_color: str | None = None
    secondary_color: str | None = None
    # Body text and page background of the municipality's pages (WCAG AA checked by profiles).
    text_color: str | None = None
    background_color: str | None = None
    # An http(s) URL or a data:image/...;base64 URL.
    logo_url: str | None = None
    welcome_text: BrandingText | None = None
    impressum: BrandingText | None = None
    datenschutz: BrandingText | None = None


class TenantData(Payload):
    id: str
    name: str
    center: GeoPoint
    neighbours: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    branding: Branding = Field(default_factory=Branding)
    matching_weights: dict[str, float] = Field(default_factory=dict)
    version: int


class ActorData(Payload):
    id: str
    tenant: str
    type: ActorType
    name: str
    location: GeoPoint
    place_name: str | None = None
    # Private contact data: consumers that show actors publicly must not expose it.
    email: str | None = None
    locale: Literal["de", "en"] = "de"
    owners: list[str] = Field(default_factory=list)
    # An organisation's logo (an http(s) URL or a data:image URL); public like its name.
    logo_url: str | None = None
    version: int


class ActorErasedData(Payload):
    id: str
    tenant: str
    item_ids: list[str] = Field(default_factory=list)
    version: int


class DateWindow(Payload):
    start: datetime
    end: datetime


class WeeklyWindow(Payload):
    day: Weekday
    start: str  # "HH:MM", Europe/Berlin local time
    end: str


class Schedule(Payload):
    dates: list[DateWindow] = Field(default_factory=list)
    weekly: list[WeeklyWindow] = Field(default_factory=list)


class ItemData(Payload):
    """An offer or a need, as of `version`."""

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
    engagement: Engagement
    location: GeoPoint
    place_name: str | None = None
    radius_km: float
    remote: bool = False
    schedule: Schedule = Field(default_factory=Schedule)
    capacity: int = 1
    capacity_left: int = 1
    visibility: Visibility = "tenant"
    languages: list[str] = Field(default_factory=list)
    accessible: bool = False
    status: ItemStatus = "published"
    # Why a moderator hid the item (status "hidden"), for telling its owners; else None.
    hidden_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    version: int


class ItemDataV1(Payload):
    """Version 1 of item events: before languages, accessibility and capacity_left existed."""

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
    engagement: Engagement
    location: GeoPoint
    radius_km: float
    remote: bool = False
    schedule: Schedule = Field(default_factory=Schedule)
    capacity: int = 1
    visibility: Visibility = "tenant"
    status: ItemStatus = "published"
    created_at: datetime
    updated_at: datetime
    version: int


class LocalizedText(Payload):
    de: str
    en: str


class MatchReason(Payload):
    factor: str
    value: float
    weight: float
    contribution: float
    label: LocalizedText


class MatchSide(Payload):
    id: str
    actor_id: str
    tenant: str
    title: str


class MatchData(Payload):
    offer: MatchSide
    need: MatchSide
    score: float
    reasons: list[MatchReason] = Field(default_factory=list)
    # When the item event that caused this match happened (for match latency metrics).
    caused_by_event_at: datetime | None = None


class ContactData(Payload):
    id: str
    offer_id: str
    need_id: str
    requester_actor_id: str
    recipient_actor_id: str
    requester_tenant: str
    recipient_tenant: str
    message: str = ""
    status: Literal["requested", "accepted", "declined"]
    version: int


# ---- engagements: dates and shifts, sign-ups, hours (topic `engagements`) ----
SignupPolicy = Literal["open", "after_contact"]
ShiftStatus = Literal["scheduled", "cancelled"]
# confirmed: has a place; waitlisted: waits for one (promoted to confirmed when a place frees);
# cancelled: the volunteer withdrew; removed: the organisation took them off (with a reason).
SignupStatus = Literal["confirmed", "waitlisted", "cancelled", "removed"]
HoursStatus = Literal["proposed", "confirmed"]
# The `reason` of the sign-ups a shift's cancellation cancels: consumers tell these volunteers
# about the cancelled shift (the sign-up events may come before `shift.cancelled`).
SHIFT_CANCELLED_REASON = "shift cancelled"


class ShiftData(Payload):
    """A date or shift of an offer or need: when, where, how many places."""
    id: str
    tenant: str
    item_id: str
    item_kind: ItemKind
    item_title: str
    actor_id: str  # the organisation (or person) whose item it is
    start: datetime  # UTC
    end: datetime
    place_name: str | None = None
    location: GeoPoint | None = None
    places: int
    places_left: int
    note: str = ""
    signup_policy: SignupPolicy = "open"
    cancel_cutoff_hours: int = 0
    status: ShiftStatus = "scheduled"
    version: int


class SignupData(Payload):
    """A volunteer's sign-up for a shift, after the change."""
    id: str
    tenant: str
    shift_id: str
    item_id: str
    volunteer_actor_id: str
    organisation_actor_id: str
    status: SignupStatus
    # Place in the waitlist (1 = next), while waitlisted.
    waitlist_position: int | None = None
    # Why the organisation removed the volunteer, or the volunteer cancelled (optional then).
    reason: str | None = None
    shift_start: datetime
    shift_end: datetime
    version: int


class HoursData(Payload):
    """Hours of one sign-up: proposed by the volunteer or confirmed by the organisation."""
    id: str  # the sign-up's id: one record of hours per sign-up
    tenant: str
    shift_id: str
    item_id: str
    volunteer_actor_id: str
    organisation_actor_id: str
    attended: bool
    hours: float
    status: HoursStatus
    worked_on: datetime  # the shift's start
    version: int

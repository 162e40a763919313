"""What the profiles routes answer, as OpenAPI states it (`responses=` of each route).

The routes build plain dicts from the stored records; these models describe those dicts for
the document (a generated client reads them), and the Schemathesis test checks every answer
against them. Views may carry more fields than listed (e.g. a coarsened location's note).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from platform_common.events.models import (
    ActorData, ActorType, ContactData, ItemData, ShiftData, TenantData,
)


class VolunteerCardSetting(BaseModel):
    hours_per_year: int


class TenantView(TenantData):
    created_at: datetime
    updated_at: datetime
    volunteer_card: VolunteerCardSetting | None = None


class TenantList(BaseModel):
    items: list[TenantView]


class ActorView(ActorData):
    """An actor's profile; `email` and `owners` only for its owners (and `email` for the
    partner of an accepted contact request)."""

    created_at: datetime
    updated_at: datetime


class ActorList(BaseModel):
    items: list[ActorView]


class ItemView(ItemData):
    """An offer or a need; `hidden_reason` only while a moderator hides it.

    `expires_at` is when the item ends (status `expired`): with one-off dates only, the end of
    its last date; with weekly windows or no schedule, 180 days after its owners last published,
    changed or resumed it (any change renews it), or its last date if that is later.
    """


class ItemPage(BaseModel):
    items: list[ItemView]
    next: str | None = Field(description="The `after` of the next page; null on the last page")


class ModerationPage(BaseModel):
    items: list[ItemView]
    next_cursor: str | None = Field(description="The `after` of the next page; null at the end")


class ContactCard(BaseModel):
    name: str | None
    email: str | None


class ContactParties(BaseModel):
    requester: ContactCard
    recipient: ContactCard


class ContactView(ContactData):
    """A contact request as its parties see it; `contact` (names, e-mails) once accepted."""

    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None = None
    contact: ContactParties | None = None


class ContactPage(BaseModel):
    items: list[ContactView]
    next: str | None


class Figures(BaseModel):
    items_published: int
    matches_found: int
    contacts_requested: int
    contacts_accepted: int
    median_hours_to_first_match: float | None


class MonthFigures(Figures):
    month: str


class CategoryFigures(Figures):
    category: str


class TenantStats(BaseModel):
    """JSON by default; `format=csv` (or `Accept: text/csv`) answers the rows as CSV."""

    tenant: str
    totals: Figures
    by_month: list[MonthFigures]
    by_category: list[CategoryFigures]
    shifts: int = 0
    signups: int = Field(0, description="Sign-ups ever made (also cancelled ones)")
    waitlisted: int = Field(0, description="Sign-ups waiting for a place now")
    no_shows: int = 0
    hours_confirmed: float = 0


# ---- engagements -----------------------------------------------------------------------------
class SignupHours(BaseModel):
    hours: float | None
    attended: bool | None
    status: str
    worked_on: datetime | None


class SignupShift(BaseModel):
    model_config = ConfigDict(extra="allow")
    start: datetime
    end: datetime
    item_title: str
    place_name: str | None = None


class SignupView(BaseModel):
    """A sign-up as its volunteer and the organisation see it (`volunteer_name`: the
    organisation's list)."""
    model_config = ConfigDict(extra="allow")
    id: str
    shift_id: str
    item_id: str
    actor_id: str
    organisation_actor_id: str
    status: str
    waitlist_position: int | None
    reason: str | None
    hours: SignupHours | None
    version: int
    created_at: datetime
    updated_at: datetime
    shift: SignupShift | None


class SignupList(BaseModel):
    items: list[SignupView]


class ShiftView(ShiftData):
    """A shift with its counts; `my_signup` is the caller's own active sign-up. Names of
    volunteers are never in it."""
    confirmed: int
    waitlisted: int
    my_signup: SignupView | None = None
    created_at: datetime
    updated_at: datetime


class ShiftList(BaseModel):
    items: list[ShiftView]


class YearHours(BaseModel):
    year: int
    hours: float


class OrganisationHoursView(BaseModel):
    actor_id: str
    name: str
    hours: float


class CardProgress(BaseModel):
    threshold_hours_per_year: int
    hours: float
    reached: bool
    missing_hours: float


class HoursSummary(BaseModel):
    actor_id: str
    year: int
    hours: float
    total_hours: float
    by_year: list[YearHours]
    by_organisation: list[OrganisationHoursView]
    card: CardProgress


class CalendarLink(BaseModel):
    url: str = Field(description="The feed's secret URL, the same every time until it is "
                                 "renewed (POST /me/calendar/renew)")
    exists: bool


class ProfilesExport(BaseModel):
    model_config = ConfigDict(extra="allow")
    sub: str
    tenant: str
    exported_at: datetime
    actors: list[dict[str, Any]]
    offers: list[dict[str, Any]]
    needs: list[dict[str, Any]]
    contacts: list[dict[str, Any]]


class ErasureResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    erased_actors: list[str]
    left_actors: list[str]
    closed_items: list[str]


class ActorClosure(BaseModel):
    """`DELETE /actors/{id}`: the deleted actor and the ids of its items, now closed."""
    model_config = ConfigDict(extra="allow")
    id: str
    type: ActorType
    closed_items: list[str]


# GET /tenants/{id}/stats?format=csv: the month and category rows.
STATS_CSV = {"text/csv": {"schema": {"type": "string"}}}
ICALENDAR = {"text/calendar": {"schema": {"type": "string"}}}
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}

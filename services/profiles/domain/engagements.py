"""Dates and shifts of offers and needs, sign-ups with a waitlist, and the hours worked.

Pure: the service loads the shift, its sign-ups and the actors and passes them in; every change
returns new versions of the records. A shift keeps the counts of its confirmed and waitlisted
sign-ups, so that two sign-ups for its last place change the same document: one of the two
transactions loses the write conflict, retries and is waitlisted (no overbooking).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Iterable, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator, Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator,
)

from platform_common.errors import Conflict, Forbidden, InvalidInput, invalid
from platform_common.events.models import SHIFT_CANCELLED_REASON
from services.profiles.domain.records import ItemKind, Point, Stored
from services.profiles.domain.requests import (
    Location, MultiLine, PlaceName, SingleLine, Strict, Version, _text_pattern, to_utc,
)

BERLIN = ZoneInfo("Europe/Berlin")
MAX_SHIFT_LENGTH = timedelta(hours=24)
MAX_HOURS_PER_DAY = 24
# Hours may exceed the shift's length by this much (setting up, tidying away).
HOURS_TOLERANCE = 1
DEFAULT_CARD_HOURS = 250  # NRW Ehrenamtskarte: about 5 hours a week
ACTIVE = ("confirmed", "waitlisted")

SignupPolicy = Literal["open", "after_contact"]
ShiftStatus = Literal["scheduled", "cancelled"]
SignupStatus = Literal["confirmed", "waitlisted", "cancelled", "removed"]
HoursStatus = Literal["proposed", "confirmed"]
Side = Literal["volunteer", "organisation"]

Note = Annotated[StrictStr, Field(max_length=2000), AfterValidator(str.strip), MultiLine,
                 _text_pattern(0, multi_line=True)]
Places = Annotated[StrictInt, Field(ge=1, le=10000)]
CutoffHours = Annotated[StrictInt, Field(ge=0, le=24 * 30)]
ReasonText = Annotated[StrictStr, Field(max_length=500), AfterValidator(str.strip), MultiLine,
                       _text_pattern(0, multi_line=True)]
ActorId = Annotated[StrictStr, Field(min_length=1, max_length=100), AfterValidator(str.strip),
                    SingleLine, _text_pattern(1)]
Hours = Annotated[StrictFloat, Field(ge=0, le=MAX_HOURS_PER_DAY, allow_inf_nan=False)]


# ---- requests --------------------------------------------------------------------------------
class _Times(Strict):
    @field_validator("start", "end", check_fields=False)
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else to_utc(value)


class ShiftCreate(_Times):
    start: datetime
    end: datetime
    place_name: PlaceName | None = None
    location: Location | None = None
    places: Places
    note: Note = ""
    signup_policy: SignupPolicy = "open"
    cancel_cutoff_hours: CutoffHours = 0


class ShiftPatch(_Times):
    # A field given as null is refused: these defaults only stand for "not given".
    start: datetime = None
    end: datetime = None
    place_name: PlaceName | None = None
    location: Location | None = None
    places: Places = None
    note: Note = None
    signup_policy: SignupPolicy = None
    cancel_cutoff_hours: CutoffHours = None
    version: Version | None = None


class SignupCreate(Strict):
    actor_id: ActorId


class SignupCancel(Strict):
    reason: ReasonText | None = None


class HoursReport(Strict):
    hours: Hours | None = None
    attended: StrictBool = True


# ---- records ---------------------------------------------------------------------------------
class Shift(Stored):
    id: str
    tenant: str
    item_id: str
    item_kind: ItemKind
    item_title: str
    actor_id: str
    start: datetime
    end: datetime
    place_name: str | None = None
    location: Point | None = None
    places: int
    confirmed: int = 0
    waitlisted: int = 0
    # The next sign-up's number: the waitlist is served in this order.
    next_number: int = 1
    note: str = ""
    signup_policy: SignupPolicy = "open"
    cancel_cutoff_hours: int = 0
    status: ShiftStatus = "scheduled"
    version: int
    created_at: datetime
    updated_at: datetime


class Signup(Stored):
    id: str
    tenant: str
    shift_id: str
    item_id: str
    volunteer_actor_id: str
    organisation_actor_id: str
    status: SignupStatus
    number: int  # order of signing up (the waitlist order)
    reason: str | None = None
    # The hours of this sign-up (one record of hours per sign-up).
    hours: float | None = None
    attended: bool | None = None
    hours_status: HoursStatus | None = None
    hours_version: int = 0
    worked_on: datetime | None = None
    version: int
    created_at: datetime
    updated_at: datetime


def places_left(shift: Shift) -> int:
    return max(0, shift.places - shift.confirmed)


def _next(record, changes: dict, *, now: datetime):
    return type(record).model_validate({**record.model_dump(), **changes,
                                        "version": record.version + 1, "updated_at": now})


# ---- shifts ----------------------------------------------------------------------------------
def check_times(start: datetime, end: datetime, *, now: datetime,
                start_changed: bool = True) -> None:
    problems: list[tuple[list[str | int], str]] = []
    if start_changed and start <= now:
        problems.append((["start"], "must be in the future"))
    if end <= start:
        problems.append((["end"], "must be after start"))
    elif end - start > MAX_SHIFT_LENGTH:
        problems.append((["end"], "a shift may last at most 24 hours"))
    if problems:
        raise InvalidInput(problems)


def new_shift(request: ShiftCreate, *, shift_id: str, item, now: datetime) -> Shift:
    check_times(request.start, request.end, now=now)
    return Shift.model_validate({
        **request.model_dump(), "id": shift_id, "tenant": item.tenant, "item_id": item.id,
        "item_kind": item.kind, "item_title": item.title, "actor_id": item.actor_id,
        "version": 1, "created_at": now, "updated_at": now})


def patched_shift(shift: Shift, changes: dict, *, now: datetime) -> Shift | None:
    """The shift after a PATCH, or None when nothing changes."""
    if shift.status != "scheduled":
        raise Conflict("The shift is cancelled and can no longer be changed.",
                       code="shift_cancelled")
    start, end = changes.get("start", shift.start), changes.get("end", shift.end)
    if "start" in changes or "end" in changes:
        check_times(start, end, now=now, start_changed=start != shift.start)
    if changes.get("places", shift.places) < shift.confirmed:
        raise invalid(["places"], f"{shift.confirmed} volunteers are confirmed already")
    updated = _next(shift, changes, now=now)
    ignore = {"version", "updated_at"}
    same = updated.model_dump(exclude=ignore) == shift.model_dump(exclude=ignore)
    return None if same else updated


def moved(before: Shift, after: Shift) -> bool:
    return (before.start, before.end) != (after.start, after.end)


def cancelled_shift(shift: Shift, *, now: datetime) -> Shift:
    return _next(shift, {"status": "cancelled", "confirmed": 0, "waitlisted": 0}, now=now)


# ---- sign-ups --------------------------------------------------------------------------------
def check_can_sign_up(shift: Shift, *, volunteer, now: datetime, already_active: bool,
                      has_contact: bool) -> None:
    """`volunteer`: the caller's own actor. Raises why it may not sign up."""
    if shift.status != "scheduled":
        raise invalid(["shift_id"], "the shift is cancelled")
    if shift.start <= now:
        raise invalid(["shift_id"], "the shift has started or is over")
    if volunteer.type != "person":
        raise invalid(["actor_id"], "only a person signs up for a shift")
    if volunteer.id == shift.actor_id:
        raise invalid(["actor_id"], "the item's own actor cannot sign up for its shift")
    if already_active:
        raise Conflict("This actor is signed up for the shift already.",
                       code="already_signed_up")
    if shift.signup_policy == "after_contact" and not has_contact:
        raise Forbidden("This shift is open to volunteers after an accepted contact request.",
                        code="contact_required")


def new_signup(shift: Shift, *, signup_id: str, volunteer_actor_id: str,
               now: datetime) -> tuple[Signup, Shift]:
    """The sign-up (confirmed while places are left, else waitlisted) and the shift counted."""
    status = "confirmed" if places_left(shift) > 0 else "waitlisted"
    signup = Signup(id=signup_id, tenant=shift.tenant, shift_id=shift.id, item_id=shift.item_id,
                    volunteer_actor_id=volunteer_actor_id, organisation_actor_id=shift.actor_id,
                    status=status, number=shift.next_number, version=1, created_at=now,
                    updated_at=now)
    counted = _next(shift, {status: getattr(shift, status) + 1,
                            "next_number": shift.next_number + 1}, now=now)
    return signup, counted


def side_of(*, owns_volunteer: bool, owns_organisation: bool) -> Side | None:
    """Who acts on a sign-up: its volunteer first (a person may also manage the item)."""
    if owns_volunteer:
        return "volunteer"
    return "organisation" if owns_organisation else None


def cancel_deadline(shift: Shift) -> datetime:
    return shift.start - timedelta(hours=shift.cancel_cutoff_hours)


def cancelled_signup(signup: Signup, shift: Shift, *, side: Side, reason: str | None,
                     now: datetime, cutoff: bool = True) -> tuple[Signup, Shift]:
    """The sign-up cancelled by its volunteer, or removed by the organisation (with a reason),
    and the shift with its counts; the freed place is given by `promoted`. `cutoff=False`:
    the person's erasure, which no deadline holds up."""
    if signup.status not in ACTIVE:
        raise Conflict(f"The sign-up is {signup.status} already.", {"status": signup.status},
                       code="signup_not_active")
    if side == "organisation" and not reason:
        raise invalid(["reason"], "say why you remove the volunteer")
    if cutoff and now > cancel_deadline(shift):
        error = invalid(["shift_id"], f"cancelling was possible until "
                                      f"{shift.cancel_cutoff_hours} hours before the start")
        error.code = "cancel_cutoff"
        raise error
    status = "cancelled" if side == "volunteer" else "removed"
    updated = _next(signup, {"status": status, "reason": reason or None}, now=now)
    counted = _next(shift, {signup.status: getattr(shift, signup.status) - 1}, now=now)
    return updated, counted


def promoted(shift: Shift, waitlist: Iterable[Signup], *,
             now: datetime) -> tuple[list[Signup], Shift]:
    """The first waitlisted take the places left (by their number); the shift counted."""
    ordered = sorted((s for s in waitlist if s.status == "waitlisted"), key=lambda s: s.number)
    taken = ordered[:places_left(shift)] if shift.status == "scheduled" else []
    if not taken:
        return [], shift
    result = [_next(s, {"status": "confirmed"}, now=now) for s in taken]
    counted = _next(shift, {"confirmed": shift.confirmed + len(taken),
                            "waitlisted": shift.waitlisted - len(taken)}, now=now)
    return result, counted


def waitlist_positions(waitlist: Iterable[Signup]) -> dict[str, int]:
    """Sign-up id -> place in the waitlist (1 = next)."""
    ordered = sorted((s for s in waitlist if s.status == "waitlisted"), key=lambda s: s.number)
    return {s.id: position for position, s in enumerate(ordered, start=1)}


def shift_cancelled_signup(signup: Signup, *, now: datetime) -> Signup:
    return _next(signup, {"status": "cancelled", "reason": SHIFT_CANCELLED_REASON}, now=now)


# ---- hours -----------------------------------------------------------------------------------
def reported_hours(signup: Signup, shift: Shift, report: HoursReport, *, side: Side,
                   now: datetime) -> Signup:
    """Hours of a sign-up: confirmed when the organisation reports them, proposed by the
    volunteer (who cannot change confirmed ones). `attended=false` records a no-show."""
    if signup.status != "confirmed":
        raise invalid(["signup_id"], f"the sign-up is {signup.status}")
    if shift.start > now:
        raise invalid(["signup_id"], "hours can be reported once the shift has started")
    if side == "volunteer" and signup.hours_status == "confirmed":
        raise Conflict("The organisation has confirmed these hours already.",
                       code="hours_confirmed")
    if side == "volunteer" and not report.attended:
        raise invalid(["attended"], "only the organisation records a no-show")
    hours = float(report.hours or 0)
    if report.attended:
        if report.hours is None or hours <= 0:
            raise invalid(["hours"], "must be more than 0")
        longest = (shift.end - shift.start).total_seconds() / 3600 + HOURS_TOLERANCE
        if hours > longest:
            raise invalid(["hours"], f"the shift lasts {longest - HOURS_TOLERANCE:g} hours")
    else:
        hours = 0.0
    status = "confirmed" if side == "organisation" else "proposed"
    return _next(signup, {"hours": hours, "attended": report.attended, "hours_status": status,
                          "hours_version": signup.hours_version + 1,
                          "worked_on": shift.start}, now=now)


def confirmed_hours(signup: Signup, *, now: datetime) -> Signup:
    if signup.hours_status != "proposed":
        raise Conflict("There are no proposed hours to confirm.",
                       {"hours_status": signup.hours_status}, code="no_proposed_hours")
    return _next(signup, {"hours_status": "confirmed",
                          "hours_version": signup.hours_version + 1}, now=now)


def counts(signup: Signup) -> float:
    """The hours a sign-up adds to a person's total: confirmed and attended."""
    if signup.hours_status == "confirmed" and signup.attended and signup.hours:
        return signup.hours
    return 0.0


def local_year(moment: datetime) -> int:
    return moment.astimezone(BERLIN).year


def hours_summary(signups: Iterable[Signup], *, actor_id: str, year: int,
                  organisation_names: dict[str, str], threshold: int) -> dict:
    by_year: dict[int, float] = defaultdict(float)
    by_org: dict[str, float] = defaultdict(float)
    for signup in signups:
        hours = counts(signup)
        if not hours or signup.worked_on is None:
            continue
        by_year[local_year(signup.worked_on)] += hours
        if local_year(signup.worked_on) == year:
            by_org[signup.organisation_actor_id] += hours
    this_year = round(by_year.get(year, 0.0), 2)
    return {
        "actor_id": actor_id, "year": year, "hours": this_year,
        "total_hours": round(sum(by_year.values()), 2),
        "by_year": [{"year": y, "hours": round(h, 2)} for y, h in sorted(by_year.items())],
        "by_organisation": [{"actor_id": a, "name": organisation_names.get(a, ""),
                             "hours": round(h, 2)} for a, h in sorted(by_org.items())],
        "card": {"threshold_hours_per_year": threshold, "hours": this_year,
                 "reached": this_year >= threshold,
                 "missing_hours": round(max(0.0, threshold - this_year), 2)},
    }


@dataclass(frozen=True)
class OrganisationTotal:
    actor_id: str
    hours: float
    dates: list[date]


def certificate_rows(signups: Iterable[Signup], *, year: int | None,
                     organisation_id: str | None = None) -> list[OrganisationTotal]:
    """Confirmed hours per organisation (of one year, and one organisation, if given)."""
    hours: dict[str, float] = defaultdict(float)
    dates: dict[str, set[date]] = defaultdict(set)
    for signup in signups:
        if not counts(signup) or signup.worked_on is None:
            continue
        if year is not None and local_year(signup.worked_on) != year:
            continue
        if organisation_id is not None and signup.organisation_actor_id != organisation_id:
            continue
        hours[signup.organisation_actor_id] += counts(signup)
        dates[signup.organisation_actor_id].add(signup.worked_on.astimezone(BERLIN).date())
    return [OrganisationTotal(a, round(h, 2), sorted(dates[a])) for a, h in sorted(hours.items())]


# ---- statistics ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignupTally:
    """How many of a tenant's sign-ups share these values, and their hours summed: the store
    counts, so the statistics never load every sign-up."""

    status: SignupStatus
    hours_status: HoursStatus | None
    attended: bool | None
    count: int
    hours: float  # the sum of their recorded hours (none recorded: 0)


def tally_signups(signups: Iterable[Signup]) -> list[SignupTally]:
    """The tallies of these sign-ups (in no particular order)."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    for signup in signups:
        groups[(signup.status, signup.hours_status, signup.attended)].append(signup.hours or 0.0)
    return [SignupTally(status, hours_status, attended, len(hours), sum(hours))
            for (status, hours_status, attended), hours in groups.items()]


def engagement_figures(*, shifts: int, tallies: Iterable[SignupTally]) -> dict:
    figures = {"shifts": shifts, "signups": 0, "waitlisted": 0, "no_shows": 0,
               "hours_confirmed": 0.0}
    for tally in tallies:
        figures["signups"] += tally.count
        if tally.status == "waitlisted":
            figures["waitlisted"] += tally.count
        if tally.hours_status == "confirmed" and tally.attended is False:
            figures["no_shows"] += tally.count
        if tally.hours_status == "confirmed" and tally.attended:  # as `counts` per sign-up
            figures["hours_confirmed"] += tally.hours
    figures["hours_confirmed"] = round(figures["hours_confirmed"], 2)
    return figures

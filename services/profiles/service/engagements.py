"""Shifts of offers and needs, sign-ups with a waitlist, and hours.

Every change runs in one transaction with its outbox events (topic `engagements`, key = the
shift id). A sign-up, a cancellation and a promotion all save the shift (its counts) with a
version check, so concurrent changes of one shift serialise: nobody gets a place twice.
"""
from __future__ import annotations

from datetime import datetime

from platform_common.errors import Forbidden, NotFound, invalid
from platform_common.events.models import ItemKind
from platform_common.identity import Identity
from services.profiles.domain import contacts, engagements, mapping, rules
from services.profiles.domain.engagements import (
    HoursReport, Shift, ShiftCreate, ShiftPatch, Signup, SignupCancel, SignupCreate,
)
from services.profiles.domain.records import Item
from services.profiles.domain.requests import changes_of
from services.profiles.ports import ProfileStore, Repository
from services.profiles.service.common import emit, neighbours_of, new_id, own_actor_ids


# ---- loading and access ----------------------------------------------------------------------
async def _item_access(repo: Repository, identity: Identity | None,
                       item: Item) -> tuple[bool, bool]:
    """(caller manages the item: an owner of its actor, caller may see it)."""
    manager = rules.is_owner(identity, await repo.get_actor(item.actor_id))
    visible = rules.can_see_item(identity, item, owner=manager,
                                 item_tenant_neighbours=await neighbours_of(repo, item.tenant))
    return manager, visible


async def _visible_item(repo: Repository, identity: Identity | None, kind: ItemKind,
                        item_id: str) -> tuple[Item, bool]:
    item = await repo.get_item(item_id)
    if item is None or item.kind != kind:
        raise NotFound(f"The {kind} {item_id!r} does not exist.")
    manager, visible = await _item_access(repo, identity, item)
    if not visible:
        raise NotFound(f"The {kind} {item_id!r} does not exist.")
    return item, manager


async def _shift_access(repo: Repository, identity: Identity | None,
                        shift_id: str) -> tuple[Shift, bool]:
    """The shift and whether the caller manages it; unknown unless the caller sees its item."""
    shift = await repo.get_shift(shift_id)
    item = await repo.get_item(shift.item_id) if shift else None
    if shift is None or item is None:
        raise NotFound(f"The shift {shift_id!r} does not exist.")
    manager, visible = await _item_access(repo, identity, item)
    if not visible:
        raise NotFound(f"The shift {shift_id!r} does not exist.")
    return shift, manager


async def _signup_side(repo: Repository, identity: Identity,
                       signup: Signup) -> engagements.Side:
    """Whether the caller acts as the volunteer or the organisation; to others it is unknown."""
    side = engagements.side_of(
        owns_volunteer=rules.is_owner(identity, await repo.get_actor(signup.volunteer_actor_id)),
        owns_organisation=rules.is_owner(identity,
                                         await repo.get_actor(signup.organisation_actor_id)))
    if side is None:
        raise NotFound(f"The sign-up {signup.id!r} does not exist.")
    return side


async def _positions(repo: Repository, shift_id: str) -> dict[str, int]:
    return engagements.waitlist_positions(
        await repo.signups_of_shift(shift_id, statuses=["waitlisted"]))


async def _shift_view(repo: Repository, identity: Identity | None, shift: Shift,
                      own: list[str]) -> dict:
    mine = None
    for actor_id in own:
        signup = await repo.active_signup(shift.id, actor_id)
        if signup is not None:
            position = (await _positions(repo, shift.id)).get(signup.id)
            mine = mapping.signup_view(signup, shift, position=position)
            break
    return mapping.shift_view(shift, my_signup=mine)


# ---- changes shared by several use cases -----------------------------------------------------
async def _emit_signup(repo: Repository, name: str, signup: Signup, shift: Shift,
                       position: int | None = None) -> None:
    await emit(repo, f"signup.{name}", tenant=signup.tenant, subject=shift.id,
               data=mapping.signup_event(signup, shift, position=position))


async def _fill_places(repo: Repository, shift: Shift, *, now: datetime) -> Shift:
    """The first waitlisted take the free places (signup.promoted each); returns the shift
    counted (the caller saves it)."""
    waitlist = await repo.signups_of_shift(shift.id, statuses=["waitlisted"])
    promoted, counted = engagements.promoted(shift, waitlist, now=now)
    for before, after in zip(sorted(waitlist, key=lambda s: s.number), promoted):
        await repo.save_signup(after, expected_version=before.version)
        await _emit_signup(repo, "promoted", after, counted)
    return counted


async def _withdraw(repo: Repository, signup: Signup, shift: Shift, *, side: engagements.Side,
                    reason: str | None, now: datetime,
                    check_cutoff: bool = True) -> tuple[Signup, Shift]:
    """Cancel (volunteer) or remove (organisation) a sign-up, then promote the next waitlisted;
    both saved with their events. Returns the sign-up and the shift after the change."""
    updated, counted = engagements.cancelled_signup(signup, shift, side=side, reason=reason,
                                                    now=now, cutoff=check_cutoff)
    await repo.save_signup(updated, expected_version=signup.version)
    await _emit_signup(repo, "cancelled" if updated.status == "cancelled" else "removed",
                       updated, counted)
    counted = await _fill_places(repo, counted, now=now)
    await repo.save_shift(counted, expected_version=shift.version)
    return updated, counted


# ---- shifts ----------------------------------------------------------------------------------
async def create_shift(*, store: ProfileStore, identity: Identity, kind: ItemKind, item_id: str,
                       request: ShiftCreate, now: datetime) -> dict:
    async def work(repo: Repository) -> Shift:
        item, manager = await _visible_item(repo, identity, kind, item_id)
        if not manager:
            raise Forbidden(f"Only the owners of this {kind} may add shifts.")
        rules.check_open(item)
        shift = engagements.new_shift(request, shift_id=new_id(), item=item, now=now)
        await repo.insert_shift(shift)
        await emit(repo, "shift.scheduled", tenant=shift.tenant, subject=shift.id,
                   data=mapping.shift_event(shift))
        return shift

    return mapping.shift_view(await store.run_in_transaction(work))


async def list_shifts(*, store: ProfileStore, identity: Identity | None, kind: ItemKind,
                      item_id: str, now: datetime) -> list[dict]:
    """Upcoming shifts first (by start), then the past ones (latest first)."""
    repo = store.read
    await _visible_item(repo, identity, kind, item_id)
    shifts = await repo.shifts_of_item(item_id)
    upcoming = [s for s in shifts if s.end > now]
    past = sorted((s for s in shifts if s.end <= now), key=lambda s: s.start, reverse=True)
    own = await own_actor_ids(repo, identity)
    return [await _shift_view(repo, identity, s, own) for s in upcoming + past]


async def get_shift(*, store: ProfileStore, identity: Identity | None, shift_id: str) -> dict:
    repo = store.read
    shift, _manager = await _shift_access(repo, identity, shift_id)
    return await _shift_view(repo, identity, shift, await own_actor_ids(repo, identity))


async def update_shift(*, store: ProfileStore, identity: Identity, shift_id: str,
                       patch: ShiftPatch, now: datetime) -> dict:
    changes = changes_of(patch)

    async def work(repo: Repository) -> Shift:
        shift, manager = await _shift_access(repo, identity, shift_id)
        if not manager:
            raise Forbidden("Only the owners of the item may change its shifts.")
        if patch.version is not None:
            rules.check_version(shift.version, patch.version)
        updated = engagements.patched_shift(shift, changes, now=now)
        if updated is None:
            return shift
        updated = await _fill_places(repo, updated, now=now)  # more places: promote
        await repo.save_shift(updated, expected_version=shift.version)
        await emit(repo, "shift.changed", tenant=updated.tenant, subject=updated.id,
                   data=mapping.shift_event(updated))
        return updated

    shift = await store.run_in_transaction(work)
    return await _shift_view(store.read, identity, shift, await own_actor_ids(store.read, identity))


async def _cancel_shift(repo: Repository, shift: Shift, *, now: datetime) -> Shift:
    """The shift cancelled with every active sign-up (reason "shift cancelled")."""
    for signup in await repo.signups_of_shift(shift.id, statuses=list(engagements.ACTIVE)):
        updated = engagements.shift_cancelled_signup(signup, now=now)
        await repo.save_signup(updated, expected_version=signup.version)
        await _emit_signup(repo, "cancelled", updated, shift)
    cancelled = engagements.cancelled_shift(shift, now=now)
    await repo.save_shift(cancelled, expected_version=shift.version)
    await emit(repo, "shift.cancelled", tenant=cancelled.tenant, subject=cancelled.id,
               data=mapping.shift_event(cancelled))
    return cancelled


async def cancel_shift(*, store: ProfileStore, identity: Identity, shift_id: str,
                       now: datetime) -> dict:
    async def work(repo: Repository) -> Shift:
        shift, manager = await _shift_access(repo, identity, shift_id)
        if not manager:
            raise Forbidden("Only the owners of the item may cancel its shifts.")
        if shift.status == "cancelled":
            return shift
        return await _cancel_shift(repo, shift, now=now)

    return mapping.shift_view(await store.run_in_transaction(work))


# ---- sign-ups --------------------------------------------------------------------------------
async def sign_up(*, store: ProfileStore, identity: Identity, shift_id: str,
                  request: SignupCreate, now: datetime) -> dict:
    async def work(repo: Repository) -> tuple[Signup, Shift, int | None]:
        shift, _manager = await _shift_access(repo, identity, shift_id)
        volunteer = await repo.get_actor(request.actor_id)
        if volunteer is None or not rules.is_owner(identity, volunteer):
            raise invalid(["actor_id"], "is not one of your profiles")
        has_contact = shift.signup_policy == "open" or contacts.shares_accepted_contact(
            await repo.list_contacts(actor_ids=[volunteer.id], statuses=["accepted"]),
            actor_id=shift.actor_id, own_actor_ids=[volunteer.id])
        engagements.check_can_sign_up(
            shift, volunteer=volunteer, now=now, has_contact=has_contact,
            already_active=await repo.active_signup(shift.id, volunteer.id) is not None)
        signup, counted = engagements.new_signup(shift, signup_id=new_id(),
                                                 volunteer_actor_id=volunteer.id, now=now)
        # The shift's version check makes concurrent sign-ups for its last place serialise.
        await repo.save_shift(counted, expected_version=shift.version)
        await repo.insert_signup(signup)
        position = counted.waitlisted if signup.status == "waitlisted" else None
        await _emit_signup(repo, signup.status, signup, counted, position)
        return signup, counted, position

    signup, shift, position = await store.run_in_transaction(work)
    return mapping.signup_view(signup, shift, position=position)


async def shift_signups(*, store: ProfileStore, identity: Identity, shift_id: str) -> list[dict]:
    """Who is coming (and waiting): for the organisation only."""
    repo = store.read
    shift, manager = await _shift_access(repo, identity, shift_id)
    if not manager:
        raise Forbidden("Only the organisation sees who signed up.")
    signups = await repo.signups_of_shift(shift.id)
    positions = engagements.waitlist_positions(signups)
    views = []
    for signup in signups:
        volunteer = await repo.get_actor(signup.volunteer_actor_id)
        views.append(mapping.signup_view(signup, shift, position=positions.get(signup.id),
                                         volunteer_name=volunteer.name if volunteer else ""))
    return views


async def cancel_signup(*, store: ProfileStore, identity: Identity, signup_id: str,
                        request: SignupCancel, now: datetime) -> dict:
    """The volunteer cancels, or the organisation removes them with a reason (both until the
    shift's cut-off); the first waitlisted takes the freed place."""
    async def work(repo: Repository) -> tuple[Signup, Shift]:
        signup = await repo.get_signup(signup_id)
        if signup is None:
            raise NotFound(f"The sign-up {signup_id!r} does not exist.")
        side = await _signup_side(repo, identity, signup)
        shift = await repo.get_shift(signup.shift_id)
        return await _withdraw(repo, signup, shift, side=side, reason=request.reason, now=now)

    signup, shift = await store.run_in_transaction(work)
    return mapping.signup_view(signup, shift)


async def my_signups(*, store: ProfileStore, identity: Identity) -> list[dict]:
    """The sign-ups of the caller's own actors, with their shifts, by the shift's start."""
    repo = store.read
    views = []
    for actor_id in await own_actor_ids(repo, identity):
        for signup in await repo.signups_of_actor(actor_id):
            shift = await repo.get_shift(signup.shift_id)
            position = (await _positions(repo, signup.shift_id)).get(signup.id) \
                if signup.status == "waitlisted" else None
            view = mapping.signup_view(signup, shift, position=position)
            if shift is not None:
                view["shift"] = {**mapping.shift_view(shift), **view["shift"]}
            views.append((shift.start if shift else signup.created_at, view))
    return [view for _start, view in sorted(views, key=lambda pair: pair[0])]


# ---- hours -----------------------------------------------------------------------------------
async def report_hours(*, store: ProfileStore, identity: Identity, signup_id: str,
                       report: HoursReport, now: datetime) -> dict:
    """The organisation confirms hours (or a no-show); the volunteer proposes them."""
    async def work(repo: Repository) -> tuple[Signup, Shift]:
        signup = await repo.get_signup(signup_id)
        if signup is None:
            raise NotFound(f"The sign-up {signup_id!r} does not exist.")
        side = await _signup_side(repo, identity, signup)
        shift = await repo.get_shift(signup.shift_id)
        updated = engagements.reported_hours(signup, shift, report, side=side, now=now)
        await repo.save_signup(updated, expected_version=signup.version)
        await emit(repo, f"hours.{updated.hours_status}", tenant=updated.tenant,
                   subject=shift.id, data=mapping.hours_event(updated))
        return updated, shift

    signup, shift = await store.run_in_transaction(work)
    return mapping.signup_view(signup, shift)


async def confirm_hours(*, store: ProfileStore, identity: Identity, signup_id: str,
                        now: datetime) -> dict:
    async def work(repo: Repository) -> tuple[Signup, Shift]:
        signup = await repo.get_signup(signup_id)
        if signup is None:
            raise NotFound(f"The sign-up {signup_id!r} does not exist.")
        if await _signup_side(repo, identity, signup) != "organisation":
            raise Forbidden("Only the organisation confirms hours.")
        updated = engagements.confirmed_hours(signup, now=now)
        await repo.save_signup(updated, expected_version=signup.version)
        await emit(repo, "hours.confirmed", tenant=updated.tenant, subject=updated.shift_id,
                   data=mapping.hours_event(updated))
        return updated, await repo.get_shift(signup.shift_id)

    signup, shift = await store.run_in_transaction(work)
    return mapping.signup_view(signup, shift)


async def _organisation_names(repo: Repository, signups: list[Signup]) -> dict[str, str]:
    names = {}
    for actor_id in sorted({s.organisation_actor_id for s in signups}):
        actor = await repo.get_actor(actor_id)
        names[actor_id] = actor.name if actor else "Gelöscht"
    return names


async def _own_person(repo: Repository, identity: Identity, actor_id: str):
    actor = await repo.get_actor(actor_id)
    if actor is None:
        raise NotFound(f"The actor {actor_id!r} does not exist.")
    if not rules.is_owner(identity, actor):
        raise Forbidden("Only the person themselves sees their hours.")
    return actor


async def actor_hours(*, store: ProfileStore, identity: Identity, actor_id: str,
                      year: int | None, now: datetime) -> dict:
    """Confirmed hours by year and organisation, and where the person stands with the
    municipality's volunteer card."""
    repo = store.read
    actor = await _own_person(repo, identity, actor_id)
    signups = await repo.signups_of_actor(actor.id)
    tenant = await repo.get_tenant(actor.tenant)
    threshold = tenant.volunteer_card_hours_per_year if tenant else engagements.DEFAULT_CARD_HOURS
    return engagements.hours_summary(
        signups, actor_id=actor.id, year=year or engagements.local_year(now),
        organisation_names=await _organisation_names(repo, signups), threshold=threshold)


# ---- erasure (personal_data.erase_actor) -------------------------------------------------------
async def erase_signups_of(repo: Repository, actor_id: str, *, now: datetime) -> None:
    """Delete a volunteer's sign-ups and hours; an active one is cancelled first (its event
    tells the organisation and the notifications), and its place goes to the next waitlisted."""
    for signup in await repo.signups_of_actor(actor_id):
        shift = await repo.get_shift(signup.shift_id)
        if signup.status in engagements.ACTIVE and shift is not None:
            signup, _shift = await _withdraw(repo, signup, shift, side="volunteer", reason=None,
                                             now=now, check_cutoff=False)
        await repo.delete_signup(signup.id)


async def cancel_shifts_of_item(repo: Repository, item_id: str, *, now: datetime) -> None:
    """Cancel the item's shifts that have not ended (its actor is erased or closed)."""
    for shift in await repo.shifts_of_item(item_id):
        if shift.status == "scheduled" and shift.end > now:
            await _cancel_shift(repo, shift, now=now)

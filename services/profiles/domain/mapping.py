"""From the stored records to what leaves the service: event payloads and API views.

The one place where the storage model meets the published contracts
(platform_common.events.models, the routes' views in responses.py). Every field that goes on
the wire is named here, so a field added to a record stays private until it is mapped.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import TypeAdapter

from platform_common.events.models import (
    ActorData, ContactData, HoursData, ItemData, ShiftData, SignupData, TenantData,
)
from platform_common.privacy import public_location

if TYPE_CHECKING:
    from services.profiles.domain.contacts import Contact
    from services.profiles.domain.engagements import Shift, Signup
    from services.profiles.domain.records import Actor, Item, Tenant


# ---- event payloads --------------------------------------------------------------------------
def tenant_event(tenant: "Tenant") -> TenantData:
    return TenantData(
        id=tenant.id, name=tenant.name, center=tenant.center.model_dump(),
        neighbours=list(tenant.neighbours), categories=list(tenant.categories),
        branding=tenant.branding.model_dump(), matching_weights=dict(tenant.matching_weights),
        version=tenant.version)


def actor_event(actor: "Actor") -> ActorData:
    return ActorData(
        id=actor.id, tenant=actor.tenant, type=actor.type, name=actor.name,
        location=actor.location.model_dump(), place_name=actor.place_name, email=actor.email,
        locale=actor.locale, owners=list(actor.owners), logo_url=actor.logo_url,
        version=actor.version)


def item_event(item: "Item") -> ItemData:
    return ItemData(
        id=item.id, kind=item.kind, tenant=item.tenant, actor_id=item.actor_id,
        actor_type=item.actor_type, title=item.title, description=item.description,
        categories=list(item.categories), skills=list(item.skills),
        requirements=list(item.requirements), engagement=item.engagement,
        location=item.location.model_dump(), place_name=item.place_name,
        radius_km=item.radius_km, remote=item.remote, schedule=item.schedule.model_dump(),
        capacity=item.capacity, capacity_left=item.capacity_left, visibility=item.visibility,
        languages=list(item.languages), accessible=item.accessible, status=item.status,
        hidden_reason=item.hidden_reason, created_at=item.created_at,
        updated_at=item.updated_at, expires_at=item.expires_at, version=item.version)


def contact_event(contact: "Contact") -> ContactData:
    return ContactData(
        id=contact.id, offer_id=contact.offer_id, need_id=contact.need_id,
        requester_actor_id=contact.requester_actor_id,
        recipient_actor_id=contact.recipient_actor_id,
        requester_tenant=contact.requester_tenant, recipient_tenant=contact.recipient_tenant,
        message=contact.message, status=contact.status, version=contact.version)


def snapshot(record: "Tenant | Actor | Item") -> TenantData | ActorData | ItemData:
    """The event payload of a tenant, actor or item (also the rows of /internal/export)."""
    from services.profiles.domain.records import Actor, Item, Tenant

    mapper = {Tenant: tenant_event, Actor: actor_event, Item: item_event}[type(record)]
    return mapper(record)


# ---- API views -------------------------------------------------------------------------------
def tenant_view(tenant: "Tenant") -> dict:
    return {**tenant_event(tenant).model_dump(mode="json"),
            "volunteer_card": {"hours_per_year": tenant.volunteer_card_hours_per_year},
            **_times(tenant, "created_at", "updated_at")}


def actor_view(actor: "Actor", *, private: bool) -> dict:
    """Everyone sees an actor's public profile; e-mail and owners only its owners.

    A person's location is shown to others only coarsened (platform_common.privacy).
    """
    view = {**actor_event(actor).model_dump(mode="json"),
            **_times(actor, "created_at", "updated_at")}
    if not private:
        view.pop("email", None)
        view.pop("owners", None)
        view["location"] = public_location(view["location"], actor_type=actor.type)
    return view


def counterpart_actor_view(actor: "Actor") -> dict:
    """The public profile plus the e-mail and the exact location: for the other party of an
    accepted contact (both consented)."""
    return {**actor_view(actor, private=False), "email": actor.email,
            "location": actor.location.model_dump(mode="json")}


def item_view(item: "Item", *, exact: bool = False) -> dict:
    """An item as a caller sees it. The place of a person's item is coarsened unless `exact`
    (its owners, and the partner of an accepted contact request: service.item_views)."""
    view = item_event(item).model_dump(mode="json")
    if not exact:
        view["location"] = public_location(view["location"], actor_type=item.actor_type)
    if view.get("hidden_reason") is None:
        view.pop("hidden_reason", None)
    return view


def _card(actor: "Actor | None") -> dict:
    return {"name": actor.name if actor else None, "email": actor.email if actor else None}


def contact_view(contact: "Contact", *, requester: "Actor | None" = None,
                 recipient: "Actor | None" = None) -> dict:
    """The request as its parties see it; names and e-mails only once it is accepted."""
    view = {**contact_event(contact).model_dump(mode="json"),
            **_times(contact, "created_at", "updated_at", "decided_at")}
    if contact.status == "accepted":
        view["contact"] = {"requester": _card(requester), "recipient": _card(recipient)}
    return view


_TIME = TypeAdapter(datetime | None)


def _times(record, *names: str) -> dict:
    """Stored timestamps the views show, in the JSON form of the rest of the view."""
    return {name: _TIME.dump_python(getattr(record, name), mode="json") for name in names}


# ---- engagements: shifts, sign-ups, hours ----------------------------------------------------
def shift_event(shift: "Shift") -> ShiftData:
    from services.profiles.domain.engagements import places_left

    return ShiftData(
        id=shift.id, tenant=shift.tenant, item_id=shift.item_id, item_kind=shift.item_kind,
        item_title=shift.item_title, actor_id=shift.actor_id, start=shift.start, end=shift.end,
        place_name=shift.place_name,
        location=shift.location.model_dump() if shift.location else None, places=shift.places,
        places_left=places_left(shift), note=shift.note, signup_policy=shift.signup_policy,
        cancel_cutoff_hours=shift.cancel_cutoff_hours, status=shift.status,
        version=shift.version)


def signup_event(signup: "Signup", shift: "Shift", *, position: int | None = None) -> SignupData:
    return SignupData(
        id=signup.id, tenant=signup.tenant, shift_id=signup.shift_id, item_id=signup.item_id,
        volunteer_actor_id=signup.volunteer_actor_id,
        organisation_actor_id=signup.organisation_actor_id, status=signup.status,
        waitlist_position=position if signup.status == "waitlisted" else None,
        reason=signup.reason, shift_start=shift.start, shift_end=shift.end,
        version=signup.version)


def hours_event(signup: "Signup") -> HoursData:
    return HoursData(
        id=signup.id, tenant=signup.tenant, shift_id=signup.shift_id, item_id=signup.item_id,
        volunteer_actor_id=signup.volunteer_actor_id,
        organisation_actor_id=signup.organisation_actor_id, attended=bool(signup.attended),
        hours=signup.hours or 0.0, status=signup.hours_status, worked_on=signup.worked_on,
        version=signup.hours_version)


def shift_view(shift: "Shift", *, my_signup: dict | None = None) -> dict:
    """Counts only: who signed up is for the organisation and each volunteer themselves."""
    view = shift_event(shift).model_dump(mode="json")
    view.pop("tenant", None)
    return {**view, "tenant": shift.tenant, "confirmed": shift.confirmed,
            "waitlisted": shift.waitlisted, "my_signup": my_signup,
            **_times(shift, "created_at", "updated_at")}


def hours_view(signup: "Signup") -> dict | None:
    if signup.hours_status is None:
        return None
    return {"hours": signup.hours, "attended": signup.attended, "status": signup.hours_status,
            "worked_on": _TIME.dump_python(signup.worked_on, mode="json")}


def signup_view(signup: "Signup", shift: "Shift | None", *, position: int | None = None,
                volunteer_name: str | None = None) -> dict:
    view = {
        "id": signup.id, "shift_id": signup.shift_id, "item_id": signup.item_id,
        "actor_id": signup.volunteer_actor_id,
        "organisation_actor_id": signup.organisation_actor_id, "status": signup.status,
        "waitlist_position": position if signup.status == "waitlisted" else None,
        "reason": signup.reason, "hours": hours_view(signup), "version": signup.version,
        **_times(signup, "created_at", "updated_at"),
        "shift": None if shift is None else {
            "start": _TIME.dump_python(shift.start, mode="json"),
            "end": _TIME.dump_python(shift.end, mode="json"), "item_title": shift.item_title,
            "item_kind": shift.item_kind, "place_name": shift.place_name,
            "status": shift.status},
    }
    if volunteer_name is not None:
        view["volunteer_name"] = volunteer_name
    return view

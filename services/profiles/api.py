"""HTTP routes of the profiles service (the gateway maps /api/v1/<path> to <path>)."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response

from platform_common.events.models import ItemKind
from platform_common.errors import invalid, invalid_cursor
from platform_common.http import answers, current_process
from platform_common.http.json_body import StrictJsonRoute
from platform_common.http.auth import CurrentIdentity, MaybeIdentity, internal_caller
from platform_common.identity import Identity
from services.profiles import service
from services.profiles.bootstrap import ProfilesApi
from services.profiles.domain import mapping, rules
from services.profiles.domain import stats as stats_domain
from services.profiles.domain.contacts import ContactCreate, ContactRole, ContactStatus
from services.profiles.domain.records import Item
from services.profiles.domain.requests import (
    ActorCreate, ActorPatch, HideRequest, ItemCreate, ItemPatch, MemberAdd, TenantCreate,
    TenantPatch,
)
from services.profiles.domain.engagements import (
    HoursReport, ShiftCreate, ShiftPatch, SignupCancel, SignupCreate,
)
from services.profiles.responses import (
    ICALENDAR, PDF, STATS_CSV, ActorClosure, ActorList, ActorView, CalendarLink, ContactPage,
    ContactView, ErasureResult, HoursSummary, ItemPage, ItemView, ModerationPage, ProfilesExport,
    ShiftList, ShiftView, SignupList, SignupView, TenantList, TenantStats, TenantView,
)

router = APIRouter(route_class=StrictJsonRoute)
# The process the app built (bootstrap.ProfilesApi): its store, statistics and suggestions.
Profiles = Annotated[ProfilesApi, Depends(current_process)]
IfMatch = Annotated[str | None, Header(
    alias="If-Match", description="The version the change is based on: `3`, `\"3\"` or `W/\"3\"`",
    json_schema_extra={"pattern": r'^\s*(W/)?"*[0-9]*[1-9][0-9]*"*\s*$'})]
# A page's `after` is the `next` of the previous page (a row id), stated for clients.
After = Annotated[str | None, Query(
    description="`next` of the previous page", json_schema_extra={
        "pattern": "^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$"})]
Status = Literal["published", "closed", "expired", "hidden", "paused"]


def _expected_version(body_version: int | None, if_match: str | None) -> int | None:
    """The version a change is based on: from the body, else from If-Match (`3` or `"3"`)."""
    if body_version is not None:
        return body_version
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()) or int(value) < 1:  # "²".isdigit() too
        raise invalid(["If-Match"], "must be the current version number")
    return int(value)


def _page_after(after: str | None) -> str | None:
    """`after` is the `next` of the previous page: the id (a UUID) of its last row; empty or
    absent means the first page."""
    if not after:
        return None
    if not _is_uuid(after):
        raise invalid_cursor("after", "is not the `next` of a previous page")
    return after


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


# ---- tenants ---------------------------------------------------------------------------------
@router.post("/tenants", status_code=201, tags=["tenants"],
              responses=answers(TenantView, 403, 404, 409, 422, status=201))
async def create_tenant(body: TenantCreate, identity: CurrentIdentity, profiles: Profiles):
    tenant = await service.create_tenant(store=profiles.store, identity=identity, request=body,
                                         now=service.now_ms())
    return mapping.tenant_view(tenant)


@router.get("/tenants", tags=["tenants"], responses=answers(TenantList))
async def list_tenants(profiles: Profiles):
    tenants = await service.list_tenants(store=profiles.store)
    return {"items": [mapping.tenant_view(t) for t in tenants]}


@router.get("/tenants/{tenant_id}", tags=["tenants"], responses=answers(TenantView, 404))
async def get_tenant(tenant_id: str, profiles: Profiles):
    tenant = await service.get_tenant(store=profiles.store, tenant_id=tenant_id)
    return mapping.tenant_view(tenant)


@router.patch("/tenants/{tenant_id}", tags=["tenants"],
               responses=answers(TenantView, 403, 404, 409, 422))
async def update_tenant(tenant_id: str, body: TenantPatch, identity: CurrentIdentity,
                        profiles: Profiles, if_match: IfMatch = None):
    tenant = await service.update_tenant(
        store=profiles.store, identity=identity, tenant_id=tenant_id, patch=body,
        expected_version=_expected_version(body.version, if_match), now=service.now_ms())
    return mapping.tenant_view(tenant)


@router.get("/tenants/{tenant_id}/stats", tags=["tenants"],
             responses=answers(TenantStats, 403, 404, 422, content=STATS_CSV))
async def tenant_stats(tenant_id: str, identity: CurrentIdentity, profiles: Profiles,
                       format: Literal["json", "csv"] = "json"):
    """Figures of a municipality (its tenant admins, operators); `format=csv` downloads the
    month and category rows."""
    figures = await service.tenant_stats(store=profiles.store,
                                         stats=profiles.stats,
                                         identity=identity, tenant_id=tenant_id)
    if format == "csv":
        return Response(stats_domain.stats_csv(figures), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="stats-{tenant_id}.csv"'})
    return figures


# ---- actors ----------------------------------------------------------------------------------
@router.post("/actors", status_code=201, tags=["actors"],
             responses=answers(ActorView, 409, 422, status=201))
async def register_actor(body: ActorCreate, identity: CurrentIdentity, profiles: Profiles):
    actor = await service.register_actor(store=profiles.store, identity=identity, request=body,
                                         now=service.now_ms())
    return mapping.actor_view(actor, private=True)


@router.get("/actors/{actor_id}", tags=["actors"], responses=answers(ActorView, 401, 404))
async def get_actor(actor_id: str, identity: MaybeIdentity, profiles: Profiles):
    """The public profile; owners also see e-mail and owners, and the other party of an
    accepted contact request also the e-mail."""
    return await service.actor_view_for(store=profiles.store, identity=identity,
                                        actor_id=actor_id)


@router.patch("/actors/{actor_id}", tags=["actors"],
              responses=answers(ActorView, 403, 404, 409, 422))
async def update_actor(actor_id: str, body: ActorPatch, identity: CurrentIdentity,
                       profiles: Profiles, if_match: IfMatch = None):
    actor = await service.update_actor(
        store=profiles.store, identity=identity, actor_id=actor_id, patch=body,
        expected_version=_expected_version(body.version, if_match), now=service.now_ms())
    return mapping.actor_view(actor, private=True)


@router.post("/actors/{actor_id}/members", tags=["actors"],
             responses=answers(ActorView, 403, 404, 409, 422))
async def add_member(actor_id: str, body: MemberAdd, identity: CurrentIdentity, profiles: Profiles):
    actor = await service.add_member(store=profiles.store, identity=identity, actor_id=actor_id,
                                     sub=body.sub, now=service.now_ms())
    return mapping.actor_view(actor, private=True)


@router.delete("/actors/{actor_id}/members/{sub}", tags=["actors"],
               responses=answers(ActorView, 403, 404, 409))
async def remove_member(actor_id: str, sub: str, identity: CurrentIdentity, profiles: Profiles):
    actor = await service.remove_member(store=profiles.store, identity=identity,
                                        actor_id=actor_id, sub=sub, now=service.now_ms())
    return mapping.actor_view(actor, private=rules.is_owner(identity, actor))


@router.delete("/actors/{actor_id}", tags=["actors"],
               responses=answers(ActorClosure, 403, 404))
async def close_actor(actor_id: str, identity: CurrentIdentity, profiles: Profiles):
    """An owner closes an organisation (or deletes a person profile): its offers and needs
    close, its contact requests go, and it disappears from search and matching. For good."""
    return await service.close_actor(store=profiles.store, identity=identity,
                                     actor_id=actor_id, now=service.now_ms())


# ---- offers and needs ------------------------------------------------------------------------
async def _item_view(profiles: ProfilesApi, identity: Identity | None, item: Item) -> dict:
    """One item as this caller may see it (a person's exact place only to owners and partners)."""
    return (await service.item_views(store=profiles.store, identity=identity, items=[item]))[0]


def _item_routes(kind: ItemKind) -> APIRouter:
    items = APIRouter(prefix=f"/{kind}s", tags=[f"{kind}s"], route_class=StrictJsonRoute)

    @items.post("", status_code=201, name=f"create_{kind}",
                responses=answers(ItemView, 403, 409, 422, status=201))
    async def create(body: ItemCreate, identity: CurrentIdentity, profiles: Profiles):
        item = await service.create_item(store=profiles.store, identity=identity, kind=kind,
                                         request=body, now=service.now_ms())
        # Only owners create, change, pause and resume an item: they see its exact place.
        return mapping.item_view(item, exact=True)

    @items.get("", name=f"list_{kind}s", responses=answers(ItemPage, 400, 403, 404, 422))
    async def list_(profiles: Profiles, identity: MaybeIdentity,
                    actor_id: str | None = None, tenant: str | None = None,
                    status: Status | None = None, after: After = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50):
        found, next_after = await service.list_items(
            store=profiles.store, identity=identity, kind=kind, actor_id=actor_id,
            tenant=tenant, status=status, after=_page_after(after), limit=limit)
        return {"items": await service.item_views(store=profiles.store, identity=identity,
                                                  items=found), "next": next_after}

    @items.get("/{item_id}", name=f"get_{kind}", responses=answers(ItemView, 404))
    async def get(item_id: str, identity: MaybeIdentity, profiles: Profiles):
        item = await service.get_item(store=profiles.store, identity=identity, kind=kind,
                                      item_id=item_id)
        return await _item_view(profiles, identity, item)

    @items.patch("/{item_id}", name=f"update_{kind}",
                 responses=answers(ItemView, 403, 404, 409, 422))
    async def update(item_id: str, body: ItemPatch, identity: CurrentIdentity, profiles: Profiles,
                     if_match: IfMatch = None):
        item = await service.update_item(
            store=profiles.store, identity=identity, kind=kind, item_id=item_id, patch=body,
            expected_version=_expected_version(body.version, if_match), now=service.now_ms())
        return mapping.item_view(item, exact=True)

    @items.delete("/{item_id}", name=f"close_{kind}",
                  responses=answers(ItemView, 403, 404, 409, 422))
    async def close(item_id: str, identity: CurrentIdentity, profiles: Profiles,
                    if_match: IfMatch = None):
        item = await service.close_item(
            store=profiles.store, identity=identity, kind=kind, item_id=item_id,
            expected_version=_expected_version(None, if_match), now=service.now_ms())
        return await _item_view(profiles, identity, item)

    @items.post("/{item_id}/hide", name=f"hide_{kind}",
                responses=answers(ItemView, 403, 404, 409, 422))
    async def hide(item_id: str, body: HideRequest, identity: CurrentIdentity, profiles: Profiles):
        item = await service.hide_item(store=profiles.store, identity=identity, kind=kind,
                                       item_id=item_id, reason=body.reason, now=service.now_ms())
        return await _item_view(profiles, identity, item)

    @items.post("/{item_id}/pause", name=f"pause_{kind}",
                responses=answers(ItemView, 403, 404, 409))
    async def pause(item_id: str, identity: CurrentIdentity, profiles: Profiles):
        """Out of search and matching until resumed (its suggestions are withdrawn)."""
        item = await service.pause_item(store=profiles.store, identity=identity, kind=kind,
                                        item_id=item_id, now=service.now_ms())
        return mapping.item_view(item, exact=True)

    @items.post("/{item_id}/resume", name=f"resume_{kind}",
                responses=answers(ItemView, 403, 404, 409))
    async def resume(item_id: str, identity: CurrentIdentity, profiles: Profiles):
        """Back into search and matching. An item with weekly windows (or no schedule) runs
        for another 180 days from now; one whose last one-off date passed: 409 `item_ended`."""
        item = await service.resume_item(store=profiles.store, identity=identity, kind=kind,
                                         item_id=item_id, now=service.now_ms())
        return mapping.item_view(item, exact=True)

    @items.post("/{item_id}/unhide", name=f"unhide_{kind}",
                responses=answers(ItemView, 403, 404, 409))
    async def unhide(item_id: str, identity: CurrentIdentity, profiles: Profiles):
        item = await service.unhide_item(store=profiles.store, identity=identity, kind=kind,
                                         item_id=item_id, now=service.now_ms())
        return await _item_view(profiles, identity, item)

    @items.post("/{item_id}/shifts", status_code=201, name=f"create_{kind}_shift",
                tags=["shifts"], responses=answers(ShiftView, 403, 404, 409, 422, status=201))
    async def create_shift(item_id: str, body: ShiftCreate, identity: CurrentIdentity,
                           profiles: Profiles):
        """A date or shift of an own item (its owners and org members)."""
        return await service.create_shift(store=profiles.store, identity=identity, kind=kind,
                                          item_id=item_id, request=body, now=service.now_ms())

    @items.get("/{item_id}/shifts", name=f"list_{kind}_shifts", tags=["shifts"],
               responses=answers(ShiftList, 404))
    async def list_shifts(item_id: str, identity: MaybeIdentity, profiles: Profiles):
        """Upcoming first, by start; counts only, never who signed up."""
        return {"items": await service.list_shifts(store=profiles.store, identity=identity,
                                                   kind=kind, item_id=item_id,
                                                   now=service.now_ms())}

    @items.get("/{item_id}/calendar.ics", name=f"{kind}_calendar", tags=["calendars"],
               response_class=Response, responses=answers(None, 404, content=ICALENDAR))
    async def calendar(item_id: str, identity: MaybeIdentity, profiles: Profiles):
        """The item's shifts as iCalendar (Europe/Berlin times)."""
        return _ics(await service.item_calendar(store=profiles.store, identity=identity,
                                                kind=kind, item_id=item_id))

    return items


def _ics(body: bytes) -> Response:
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})


def _pdf(body: bytes, filename: str) -> Response:
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


router.include_router(_item_routes("offer"))
router.include_router(_item_routes("need"))


# ---- moderation ------------------------------------------------------------------------------
@router.get("/moderation/items", tags=["moderation"],
             responses=answers(ModerationPage, 400, 403, 422))
async def moderation_items(identity: CurrentIdentity, profiles: Profiles,
                           status: Literal["hidden", "published"] = "hidden",
                           kind: ItemKind | None = None, tenant: str | None = None,
                           after: After = None,
                           limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """Hidden (default) or published offers and needs of the caller's tenant (tenant admins)
    or of every tenant or `tenant` (operators), by id; `next_cursor` is the next `after`."""
    found, next_after = await service.moderation_items(
        store=profiles.store, identity=identity, status=status, kind=kind, tenant=tenant,
        after=_page_after(after), limit=limit)
    return {"items": await service.item_views(store=profiles.store, identity=identity,
                                              items=found), "next_cursor": next_after}


# ---- contact requests ------------------------------------------------------------------------
@router.post("/contacts", status_code=201, tags=["contacts"],
             responses=answers(ContactView, 403, 404, 409, 422, status=201))
async def request_contact(body: ContactCreate, identity: CurrentIdentity, profiles: Profiles):
    """Ask the other side of an offer/need pair for contact; the caller owns one side."""
    return await service.request_contact(
        store=profiles.store, suggestions=profiles.suggestions, identity=identity, request=body,
        now=service.now_ms(), match_wait_s=profiles.settings.contacts_match_wait_s)


@router.get("/contacts", tags=["contacts"], responses=answers(ContactPage, 400, 422))
async def list_contacts(identity: CurrentIdentity, profiles: Profiles,
                        status: ContactStatus | None = None, role: ContactRole | None = None,
                        after: After = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50):
    found, next_after = await service.list_contacts(
        store=profiles.store, identity=identity, role=role, status=status,
        after=_page_after(after), limit=limit)
    return {"items": found, "next": next_after}


@router.get("/contacts/{contact_id}", tags=["contacts"],
             responses=answers(ContactView, 403, 404))
async def get_contact(contact_id: str, identity: CurrentIdentity, profiles: Profiles):
    """For its parties; once accepted it includes both sides' name and e-mail (`contact`)."""
    return await service.get_contact(store=profiles.store, identity=identity,
                                     contact_id=contact_id)


@router.post("/contacts/{contact_id}/accept", tags=["contacts"],
             responses=answers(ContactView, 403, 404, 409))
async def accept_contact(contact_id: str, identity: CurrentIdentity, profiles: Profiles):
    return await service.accept_contact(store=profiles.store, identity=identity,
                                        contact_id=contact_id, now=service.now_ms())


@router.post("/contacts/{contact_id}/decline", tags=["contacts"],
             responses=answers(ContactView, 403, 404, 409))
async def decline_contact(contact_id: str, identity: CurrentIdentity, profiles: Profiles):
    return await service.decline_contact(store=profiles.store, identity=identity,
                                         contact_id=contact_id, now=service.now_ms())


# ---- shifts, sign-ups and hours --------------------------------------------------------------
@router.get("/shifts/{shift_id}", tags=["shifts"], responses=answers(ShiftView, 404))
async def get_shift(shift_id: str, identity: MaybeIdentity, profiles: Profiles):
    return await service.get_shift(store=profiles.store, identity=identity, shift_id=shift_id)


@router.patch("/shifts/{shift_id}", tags=["shifts"],
              responses=answers(ShiftView, 403, 404, 409, 422))
async def update_shift(shift_id: str, body: ShiftPatch, identity: CurrentIdentity,
                       profiles: Profiles):
    """A move publishes shift.changed (the volunteers are told); more places promote the
    waitlisted; fewer than confirmed: 422 `places`."""
    return await service.update_shift(store=profiles.store, identity=identity,
                                      shift_id=shift_id, patch=body, now=service.now_ms())


@router.delete("/shifts/{shift_id}", tags=["shifts"], responses=answers(ShiftView, 403, 404))
async def cancel_shift(shift_id: str, identity: CurrentIdentity, profiles: Profiles):
    """Cancels the shift and every active sign-up (reason "shift cancelled")."""
    return await service.cancel_shift(store=profiles.store, identity=identity,
                                      shift_id=shift_id, now=service.now_ms())


@router.post("/shifts/{shift_id}/signups", status_code=201, tags=["shifts"],
             responses=answers(SignupView, 403, 404, 409, 422, status=201))
async def sign_up(shift_id: str, body: SignupCreate, identity: CurrentIdentity,
                  profiles: Profiles):
    """Confirmed while places are left, else waitlisted (with its position)."""
    return await service.sign_up(store=profiles.store, identity=identity, shift_id=shift_id,
                                 request=body, now=service.now_ms())


@router.get("/shifts/{shift_id}/signups", tags=["shifts"],
            responses=answers(SignupList, 403, 404))
async def shift_signups(shift_id: str, identity: CurrentIdentity, profiles: Profiles):
    """Who is coming and who waits (the organisation only)."""
    return {"items": await service.shift_signups(store=profiles.store, identity=identity,
                                                 shift_id=shift_id)}


@router.post("/signups/{signup_id}/cancel", tags=["shifts"],
             responses=answers(SignupView, 404, 409, 422))
async def cancel_signup(signup_id: str, identity: CurrentIdentity, profiles: Profiles,
                        body: SignupCancel | None = None):
    """The volunteer cancels, or the organisation removes them (`reason` required), until the
    shift's cut-off (422 `cancel_cutoff`); the first waitlisted is promoted."""
    return await service.cancel_signup(store=profiles.store, identity=identity,
                                       signup_id=signup_id, request=body or SignupCancel(),
                                       now=service.now_ms())


@router.post("/signups/{signup_id}/hours", tags=["hours"],
             responses=answers(SignupView, 403, 404, 409, 422))
async def report_hours(signup_id: str, body: HoursReport, identity: CurrentIdentity,
                       profiles: Profiles):
    """The organisation confirms (or records a no-show with `attended: false`); the volunteer
    proposes."""
    return await service.report_hours(store=profiles.store, identity=identity,
                                      signup_id=signup_id, report=body, now=service.now_ms())


@router.post("/signups/{signup_id}/hours/confirm", tags=["hours"],
             responses=answers(SignupView, 403, 404, 409))
async def confirm_hours(signup_id: str, identity: CurrentIdentity, profiles: Profiles):
    return await service.confirm_hours(store=profiles.store, identity=identity,
                                       signup_id=signup_id, now=service.now_ms())


Year = Annotated[int | None, Query(ge=2000, le=2100)]


@router.get("/actors/{actor_id}/hours", tags=["hours"],
            responses=answers(HoursSummary, 403, 404, 422))
async def actor_hours(actor_id: str, identity: CurrentIdentity, profiles: Profiles,
                      year: Year = None):
    """Confirmed hours (of `year`, default this year) and the volunteer card's progress."""
    return await service.actor_hours(store=profiles.store, identity=identity, actor_id=actor_id,
                                     year=year, now=service.now_ms())


@router.get("/actors/{actor_id}/certificate.pdf", tags=["hours"], response_class=Response,
            responses=answers(None, 403, 404, 422, content=PDF))
async def person_certificate(actor_id: str, identity: CurrentIdentity, profiles: Profiles,
                             year: Year = None):
    """Engagementnachweis: the person's confirmed hours (of `year`, or all)."""
    body = await service.person_certificate(store=profiles.store, identity=identity,
                                            actor_id=actor_id, year=year, now=service.now_ms())
    return _pdf(body, f"engagementnachweis-{year or 'gesamt'}.pdf")


@router.get("/actors/{organisation_id}/volunteers/{actor_id}/certificate.pdf", tags=["hours"],
            response_class=Response, responses=answers(None, 403, 404, 422, content=PDF))
async def organisation_certificate(organisation_id: str, actor_id: str,
                                   identity: CurrentIdentity, profiles: Profiles,
                                   year: Year = None):
    """Engagementnachweis issued by the organisation for the hours it confirmed."""
    body = await service.organisation_certificate(
        store=profiles.store, identity=identity, organisation_id=organisation_id,
        actor_id=actor_id, year=year, now=service.now_ms())
    return _pdf(body, f"engagementnachweis-{year or 'gesamt'}.pdf")


# ---- calendars -------------------------------------------------------------------------------
@router.get("/tenants/{tenant_id}/calendar.ics", tags=["calendars"], response_class=Response,
            responses=answers(None, 404, content=ICALENDAR))
async def tenant_calendar(tenant_id: str, profiles: Profiles):
    """Upcoming public shifts of the municipality (items visible region- or state-wide)."""
    return _ics(await service.tenant_calendar(store=profiles.store, tenant_id=tenant_id,
                                              now=service.now_ms()))


@router.get("/calendars/{token}.ics", tags=["calendars"], response_class=Response,
            responses=answers(None, 404, content=ICALENDAR))
async def person_calendar(token: str, profiles: Profiles):
    """A person's active sign-ups; the secret token is the key (calendar apps)."""
    return _ics(await service.person_calendar(store=profiles.store, token=token))


@router.get("/me/calendar", tags=["me"], responses=answers(CalendarLink))
async def my_calendar(identity: CurrentIdentity, profiles: Profiles):
    """The secret URL of the caller's feed (the same every time until renewed)."""
    return await service.my_calendar(store=profiles.store, identity=identity,
                                     secret=profiles.settings.calendar_key,
                                     base_url=profiles.settings.public_base_url)


@router.post("/me/calendar/renew", tags=["me"], responses=answers(CalendarLink))
async def renew_my_calendar(identity: CurrentIdentity, profiles: Profiles):
    """A new secret URL; the old one answers 404 from now on."""
    return await service.renew_my_calendar(store=profiles.store, identity=identity,
                                           secret=profiles.settings.calendar_key,
                                           base_url=profiles.settings.public_base_url)


@router.get("/me/signups", tags=["me"], responses=answers(SignupList))
async def my_signups(identity: CurrentIdentity, profiles: Profiles):
    return {"items": await service.my_signups(store=profiles.store, identity=identity)}


# ---- the caller's own data -------------------------------------------------------------------
@router.get("/me/actors", tags=["me"], responses=answers(ActorList))
async def my_actors(identity: CurrentIdentity, profiles: Profiles):
    """The profiles the caller owns (persons and organisations), with their private fields."""
    actors = await service.my_actors(store=profiles.store, identity=identity)
    return {"items": [mapping.actor_view(actor, private=True) for actor in actors]}


@router.get("/me/export", tags=["me"], responses=answers(ProfilesExport))
async def export_me(identity: CurrentIdentity, profiles: Profiles):
    exported = await service.export_me(store=profiles.store, identity=identity)
    return {**exported, "exported_at": exported["exported_at"].isoformat()}


@router.delete("/me", tags=["me"], responses=answers(ErasureResult, 409))
async def erase_me(identity: CurrentIdentity, profiles: Profiles):
    return await service.erase_me(store=profiles.store, identity=identity, now=service.now_ms())


# ---- internal (other services only; not in the public OpenAPI) -------------------------------
@router.get("/internal/export/{collection}", include_in_schema=False,
            dependencies=[internal_caller("search")])
async def internal_export(collection: Literal["tenants", "actors", "offers", "needs"],
                          profiles: Profiles, after: str | None = None,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 500):
    return await service.export_page(store=profiles.store, collection=collection, after=after,
                                     limit=limit)


@router.get("/internal/owned-actors", include_in_schema=False,
            dependencies=[internal_caller("gateway")])
async def internal_owned_actors(profiles: Profiles,
                                sub: Annotated[list[str], Query(min_length=1, max_length=200)]):
    """The actors each of these subjects owns (the gateway's dev personas name their actors)."""
    return {"items": await service.internal_owned_actors(store=profiles.store, subs=sub)}

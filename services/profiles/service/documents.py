"""What people download: iCalendar feeds (per item, per person, per municipality) and the
certificate of confirmed hours (Engagementnachweis) as PDF.

A person's feed is reached by a secret token in its URL (calendar apps cannot sign in). The
token is derived from a server secret, the person and a generation (domain/calendar_links.py),
so the URL can be shown every time while only the token's SHA-256 is stored; renewing bumps the
generation and the old URL answers 404 from then on.
"""
from __future__ import annotations

from datetime import datetime

from platform_common.errors import Forbidden, NotFound
from platform_common.events.models import ItemKind
from platform_common.identity import Identity
from services.profiles.domain import calendar_links, engagements, rules
from services.profiles.domain.certificate import (
    CertificateData, OrganisationHours, render_certificate,
)
from services.profiles.domain.engagements import Shift, Signup
from services.profiles.domain.ical import CalendarEntry, render_calendar
from services.profiles.ports import ProfileStore, Repository
from services.profiles.service.engagements import _organisation_names, _own_person, _visible_item

TENANT_FEED_LIMIT = 1000
CALENDAR_PATH = "/api/v1/calendars/{token}.ics"


def _entry(shift: Shift, *, url: str | None = None) -> CalendarEntry:
    return CalendarEntry(uid=shift.id, summary=shift.item_title, start=shift.start, end=shift.end,
                         location=shift.place_name, description=shift.note,
                         cancelled=shift.status == "cancelled", url=url)


# ---- feeds -----------------------------------------------------------------------------------
async def item_calendar(*, store: ProfileStore, identity: Identity | None, kind: ItemKind,
                        item_id: str) -> bytes:
    """The shifts of an offer or need (cancelled ones with STATUS:CANCELLED)."""
    item, _manager = await _visible_item(store.read, identity, kind, item_id)
    shifts = await store.read.shifts_of_item(item.id)
    return render_calendar(name=item.title, events=[_entry(s) for s in shifts])


async def tenant_calendar(*, store: ProfileStore, tenant_id: str, now: datetime) -> bytes:
    """Upcoming shifts of the municipality's items that anybody may see (published, visible
    beyond the municipality: region or state)."""
    repo = store.read
    tenant = await repo.get_tenant(tenant_id)
    if tenant is None:
        raise NotFound(f"The tenant {tenant_id!r} does not exist.")
    entries, public = [], {}
    for shift in await repo.upcoming_shifts(tenant_id, since=now, limit=TENANT_FEED_LIMIT):
        if shift.item_id not in public:
            item = await repo.get_item(shift.item_id)
            public[shift.item_id] = item is not None and item.status == "published" \
                and item.visibility in ("region", "state")
        if public[shift.item_id]:
            entries.append(_entry(shift))
    return render_calendar(name=tenant.branding.display_name or tenant.name, events=entries)


def _calendar_link(token: str, base_url: str) -> dict:
    return {"url": base_url.rstrip("/") + CALENDAR_PATH.format(token=token), "exists": True}


async def my_calendar(*, store: ProfileStore, identity: Identity, secret: bytes,
                      base_url: str) -> dict:
    """The person's feed URL, the same every time until it is renewed. Stored (its hash) on
    the first request, and again when the stored one is of the old random kind or the server
    secret changed."""
    stored = await store.read.calendar_token_of(identity.sub)
    token, wanted = calendar_links.current(stored, secret=secret, sub=identity.sub)
    if stored == wanted:
        return _calendar_link(token, base_url)  # the usual case: nothing to write

    async def work(repo: Repository) -> str:
        # Again inside the transaction: a renewal may have come first.
        token, wanted = calendar_links.current(await repo.calendar_token_of(identity.sub),
                                               secret=secret, sub=identity.sub)
        await repo.set_calendar_token(identity.sub, wanted)
        return token

    return _calendar_link(await store.run_in_transaction(work), base_url)


async def renew_my_calendar(*, store: ProfileStore, identity: Identity, secret: bytes,
                            base_url: str) -> dict:
    """A new URL (the next generation); the old one answers 404 from then on."""
    async def work(repo: Repository) -> str:
        token, renewed = calendar_links.renewed(await repo.calendar_token_of(identity.sub),
                                                secret=secret, sub=identity.sub)
        await repo.set_calendar_token(identity.sub, renewed)
        return token

    return _calendar_link(await store.run_in_transaction(work), base_url)


async def person_calendar(*, store: ProfileStore, token: str) -> bytes:
    """The active sign-ups of the person whose token this is."""
    repo = store.read
    sub = await repo.calendar_owner(calendar_links.hash_token(token)) if token else None
    if sub is None:
        raise NotFound("This calendar does not exist (any more).")
    entries = []
    for actor in await repo.actors_owned_by(sub):
        for signup in await repo.signups_of_actor(actor.id):
            if signup.status not in engagements.ACTIVE:
                continue
            shift = await repo.get_shift(signup.shift_id)
            if shift is not None:
                entries.append(_entry(shift))
    entries.sort(key=lambda e: e.start)
    return render_calendar(name="Meine Engagements", events=entries)


# ---- certificates ----------------------------------------------------------------------------
async def _certificate(repo: Repository, *, person, signups: list[Signup], year: int | None,
                       organisation_id: str | None, issued_by: str | None,
                       now: datetime) -> bytes:
    rows = engagements.certificate_rows(signups, year=year, organisation_id=organisation_id)
    names = await _organisation_names(repo, signups)
    tenant = await repo.get_tenant(person.tenant)
    municipality = (tenant.branding.display_name or tenant.name) if tenant else person.tenant
    return render_certificate(CertificateData(
        person_name=person.name, municipality_name=municipality,
        brand_color=tenant.branding.primary_color if tenant else None, year=year,
        organisations=[OrganisationHours(name=names.get(r.actor_id, ""), hours=r.hours,
                                         dates=r.dates) for r in rows],
        total_hours=round(sum(r.hours for r in rows), 2),
        issued_on=now.astimezone(engagements.BERLIN).date(), issued_by=issued_by))


async def person_certificate(*, store: ProfileStore, identity: Identity, actor_id: str,
                             year: int | None, now: datetime) -> bytes:
    repo = store.read
    person = await _own_person(repo, identity, actor_id)
    return await _certificate(repo, person=person, signups=await repo.signups_of_actor(person.id),
                              year=year, organisation_id=None, issued_by=None, now=now)


async def organisation_certificate(*, store: ProfileStore, identity: Identity,
                                   organisation_id: str, actor_id: str, year: int | None,
                                   now: datetime) -> bytes:
    """Issued by the organisation, for the hours it confirmed for one of its volunteers."""
    repo = store.read
    organisation = await repo.get_actor(organisation_id)
    if organisation is None:
        raise NotFound(f"The actor {organisation_id!r} does not exist.")
    if not rules.is_owner(identity, organisation):
        raise Forbidden("Only the organisation issues its certificates.")
    signups = [s for s in await repo.signups_of_actor(actor_id)
               if s.organisation_actor_id == organisation_id]
    person = await repo.get_actor(actor_id)
    if person is None or not signups:
        raise NotFound(f"{actor_id!r} has not volunteered with this organisation.")
    return await _certificate(repo, person=person, signups=signups, year=year,
                              organisation_id=organisation_id, issued_by=organisation.name,
                              now=now)

"""The caller's own data (GDPR): the export and the erasure of their profiles."""
from __future__ import annotations

from datetime import datetime

from platform_common.errors import Conflict
from platform_common.events.models import ActorErasedData
from platform_common.identity import Identity
from services.profiles.domain import mapping, records, rules
from services.profiles.domain.records import Actor
from services.profiles.ports import ProfileStore, Repository
from services.profiles.service.common import emit, now_ms
from services.profiles.service.engagements import cancel_shifts_of_item, erase_signups_of


async def export_me(*, store: ProfileStore, identity: Identity) -> dict:
    repo = store.read
    actors = await repo.actors_owned_by(identity.sub)
    actor_ids = [a.id for a in actors]
    items = await repo.list_items(kind=None, actor_ids=actor_ids) if actors else []
    own_contacts = await repo.list_contacts(actor_ids=actor_ids) if actors else []
    # Both parties as the caller sees them in the contact list: names and e-mails once accepted.
    parties = {a.id: a for a in actors}
    others = {party for c in own_contacts
              for party in (c.requester_actor_id, c.recipient_actor_id)}
    for party_id in sorted(others - set(parties)):
        parties[party_id] = await repo.get_actor(party_id)
    shifts = [shift for item in items for shift in await repo.shifts_of_item(item.id)]
    signups = [signup for actor_id in actor_ids for signup in await repo.signups_of_actor(actor_id)]
    return {
        "sub": identity.sub, "tenant": identity.tenant, "exported_at": now_ms(),
        "shifts": [mapping.shift_view(shift) for shift in shifts],
        "signups": [mapping.signup_view(signup, await repo.get_shift(signup.shift_id))
                    for signup in signups],
        "actors": [mapping.actor_view(a, private=True) for a in actors],
        "offers": [mapping.item_view(i, exact=True) for i in items if i.kind == "offer"],
        "needs": [mapping.item_view(i, exact=True) for i in items if i.kind == "need"],
        "contacts": [mapping.contact_view(c, requester=parties.get(c.requester_actor_id),
                                           recipient=parties.get(c.recipient_actor_id))
                     for c in own_contacts],
    }


def _check_no_orphaned_organisations(identity: Identity, actors: list[Actor]) -> None:
    """An organisation must keep an owner: its last owner hands it over, or closes it
    (`close_actor`), before leaving.

    Why refuse rather than close it: a Verein's profile, items and partners are the Verein's,
    not the person's; deleting one account must not close it behind the other members' backs,
    nor leave it ownerless (nobody could change or close it any more).
    """
    orphaned = [a for a in actors if rules.sole_owned_organisation(identity, a)]
    if orphaned:
        names = ", ".join(f"{a.name} ({a.id})" for a in orphaned)
        raise Conflict(
            f"You are the last owner of {names}: add another owner or close the organisation "
            "before deleting your account. Nothing was deleted.",
            [{"id": a.id, "name": a.name, "type": a.type, "tenant": a.tenant} for a in orphaned],
            code="last_owner_of_organisations")


async def erase_me(*, store: ProfileStore, identity: Identity, now: datetime) -> dict:
    """Erase every person profile only the caller owns; leave shared and organisation profiles.

    Refused (409, nothing changed) while the caller is the last owner of an organisation.
    One transaction per actor, so a repeated call finishes an interrupted erasure.
    """
    _check_no_orphaned_organisations(identity, await store.read.actors_owned_by(identity.sub))
    erased, left, closed = [], [], []
    for candidate in await store.read.actors_owned_by(identity.sub):
        async def work(repo: Repository, actor_id: str = candidate.id) -> tuple[str, list[str]]:
            actor = await repo.get_actor(actor_id)
            if actor is None or identity.sub not in actor.owners:
                return "gone", []
            if actor.type == "person" and actor.owners == [identity.sub]:
                return "erased", await erase_actor(repo, actor, now=now)
            # The others left meanwhile: checked again in the transaction.
            _check_no_orphaned_organisations(identity, [actor])
            updated = records.with_owner(actor, identity.sub, present=False, now=now)
            await repo.save_actor(updated, expected_version=actor.version)
            await emit(repo, "actor.updated", tenant=updated.tenant, subject=updated.id,
                        data=mapping.snapshot(updated))
            return "left", []

        outcome, item_ids = await store.run_in_transaction(work)
        if outcome == "erased":
            erased.append(candidate.id)
            closed.extend(item_ids)
        elif outcome == "left":
            left.append(candidate.id)
    if erased:  # the person's own feed lists their sign-ups: its URL goes with them
        await store.run_in_transaction(lambda repo: repo.delete_calendar_token(identity.sub))
    return {"erased_actors": erased, "left_actors": left, "closed_items": closed}


async def erase_actor(repo: Repository, actor: Actor, *, now: datetime) -> list[str]:
    """Persons (erasure) and organisations (closing) go the same way: the items stay only as
    closed shells without text or place, because nobody owns them any more and an
    organisation's texts often name its people."""
    tenant = await repo.get_tenant(actor.tenant)
    # The place of a private person's items may be their home: keep only the town centre.
    location = tenant.center.model_dump() if tenant else {"lat": 0.0, "lon": 0.0}
    items = await repo.list_items(kind=None, actor_ids=[actor.id])
    # Their sign-ups and hours go (a freed place goes to the next waitlisted); the shifts of
    # their items are cancelled, which tells the volunteers.
    await erase_signups_of(repo, actor.id, now=now)
    for item in items:
        await cancel_shifts_of_item(repo, item.id, now=now)
    for item in items:
        scrubbed = records.erased_item(item, location=location, now=now)
        await repo.save_item(scrubbed, expected_version=item.version)
        await emit(repo, f"{item.kind}.closed", tenant=item.tenant, subject=item.id,
                    data=mapping.snapshot(scrubbed))
    # Their contact requests (messages, who talked to whom) go with them; the other side's
    # notifications service forgets them on `actor.erased`.
    await repo.delete_contacts_of(actor.id)
    await repo.delete_actor(actor.id)
    await emit(repo, "actor.erased", tenant=actor.tenant, subject=actor.id,
                data=ActorErasedData(id=actor.id, tenant=actor.tenant,
                                     item_ids=[i.id for i in items], version=actor.version + 1))
    return [i.id for i in items]

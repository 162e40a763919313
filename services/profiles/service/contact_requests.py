"""Contact requests: one side of a current suggestion asks, the other accepts or declines."""
from __future__ import annotations

import asyncio
from datetime import datetime

from prometheus_client import Counter

from platform_common.errors import NotFound, invalid
from platform_common.events.models import ItemKind
from platform_common.identity import Identity
from services.profiles.domain import contacts, mapping, rules
from services.profiles.domain.contacts import ContactCreate, ContactRole, ContactStatus
from services.profiles.domain.records import Actor, Item
from services.profiles.ports import ProfileStore, Repository, SuggestionStore
from services.profiles.service.common import emit, neighbours_of, new_id

MATCH_CHECKS = Counter("contact_match_checks_total",
                       "Contact requests checked against the current suggestions, by result "
                       "(match, no_match)", ["result"])
# How often a pair that is not (yet) a current suggestion is looked up again while waiting.
MATCH_RECHECK_S = 0.2


async def _pair_item(repo: Repository, identity: Identity, kind: ItemKind,
                     item_id: str) -> tuple[Item, Actor]:
    """An item named in a contact request with its actor; unknown unless the caller sees it."""
    unknown = invalid([f"{kind}_id"], f"unknown {kind} {item_id!r}")
    item = await repo.get_item(item_id)
    if item is None or item.kind != kind:
        raise unknown
    actor = await repo.get_actor(item.actor_id)
    if actor is None or not rules.can_see_item(
            identity, item, owner=rules.is_owner(identity, actor),
            item_tenant_neighbours=await neighbours_of(repo, item.tenant)):
        raise unknown
    return item, actor


async def _contact_parties(repo: Repository, identity: Identity,
                           request: ContactCreate) -> tuple[Actor, Actor]:
    """(requester, recipient) of a valid new request; raises why it is not valid."""
    offer, offer_actor = await _pair_item(repo, identity, "offer", request.offer_id)
    need, need_actor = await _pair_item(repo, identity, "need", request.need_id)
    side = contacts.requester_side(identity, offer_actor=offer_actor, need_actor=need_actor)
    contacts.check_pair_open(offer, need)
    offer_neighbours = await neighbours_of(repo, offer.tenant)
    need_neighbours = await neighbours_of(repo, need.tenant)
    if not contacts.mutually_visible(offer, need, offer_tenant_neighbours=offer_neighbours,
                                     need_tenant_neighbours=need_neighbours):
        raise invalid([f"{side}_id"], f"your {side} and the other side's item are not visible "
                                      "in each other's municipalities")
    contacts.check_no_active_request(
        await repo.active_contact_for_pair(request.offer_id, request.need_id))
    return (offer_actor, need_actor) if side == "offer" else (need_actor, offer_actor)


async def _is_current_match(suggestions: SuggestionStore, request: ContactCreate, *,
                            wait_s: float) -> bool:
    """Whether the pair is a current suggestion, waiting up to `wait_s` for it to become one:
    the relay records a suggestion shortly after matching announced it (well under a second
    usually), so somebody who asks right after it appeared is not refused for that lag."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        if await suggestions.is_current(offer_id=request.offer_id, need_id=request.need_id):
            MATCH_CHECKS.labels("match").inc()
            return True
        if asyncio.get_running_loop().time() >= deadline:
            MATCH_CHECKS.labels("no_match").inc()
            return False
        await asyncio.sleep(MATCH_RECHECK_S)


async def request_contact(*, store: ProfileStore, suggestions: SuggestionStore | None,
                          identity: Identity, request: ContactCreate, now: datetime,
                          match_wait_s: float = 0.0) -> dict:
    """Ask the other side of an offer/need pair for contact (they are told by the event).

    With `suggestions` (CONTACTS_REQUIRE_MATCH), only a pair among the current suggestions, as
    profiles heard of them on matching's `matches` topic (eventually consistent: see
    `_is_current_match`); a withdrawn suggestion may no longer be asked.
    """
    # Validate first: an invalid request is refused at once, without waiting for the match.
    await _contact_parties(store.read, identity, request)
    if suggestions is not None:
        contacts.check_match(await _is_current_match(suggestions, request, wait_s=match_wait_s),
                             offer_id=request.offer_id, need_id=request.need_id)

    async def work(repo: Repository) -> contacts.Contact:
        requester, recipient = await _contact_parties(repo, identity, request)
        contact = contacts.new_contact(request, contact_id=new_id(), requester=requester,
                                       recipient=recipient, now=now)
        await repo.insert_contact(contact)
        await emit(repo, "contact.requested", tenant=contact.requester_tenant,
                    subject=contact.id, data=mapping.contact_event(contact))
        return contact

    return mapping.contact_view(await store.run_in_transaction(work))


async def _decide_contact(store: ProfileStore, identity: Identity, contact_id: str,
                          status: str, now: datetime) -> dict:
    async def work(repo: Repository) -> tuple[contacts.Contact, Actor | None, Actor | None]:
        contact = await repo.get_contact(contact_id)
        if contact is None:
            raise NotFound(f"The contact request {contact_id!r} does not exist.")
        recipient = await repo.get_actor(contact.recipient_actor_id)
        updated = contacts.decided(contact, status, identity=identity, recipient=recipient,
                                   now=now)
        await repo.save_contact(updated, expected_version=contact.version)
        await emit(repo, f"contact.{status}", tenant=updated.recipient_tenant,
                    subject=updated.id, data=mapping.contact_event(updated))
        return updated, await repo.get_actor(contact.requester_actor_id), recipient

    contact, requester, recipient = await store.run_in_transaction(work)
    return mapping.contact_view(contact, requester=requester, recipient=recipient)


async def accept_contact(*, store: ProfileStore, identity: Identity, contact_id: str,
                         now: datetime) -> dict:
    """The recipient agrees: from now on both parties see each other's name and e-mail."""
    return await _decide_contact(store, identity, contact_id, "accepted", now)


async def decline_contact(*, store: ProfileStore, identity: Identity, contact_id: str,
                          now: datetime) -> dict:
    return await _decide_contact(store, identity, contact_id, "declined", now)


async def get_contact(*, store: ProfileStore, identity: Identity, contact_id: str) -> dict:
    """A request as its parties see it; to anybody else it does not exist."""
    repo = store.read
    contact = await repo.get_contact(contact_id)
    requester = await repo.get_actor(contact.requester_actor_id) if contact else None
    recipient = await repo.get_actor(contact.recipient_actor_id) if contact else None
    if contact is None or not contacts.is_party(identity, requester=requester,
                                                recipient=recipient):
        raise NotFound(f"The contact request {contact_id!r} does not exist.")
    return mapping.contact_view(contact, requester=requester, recipient=recipient)


async def list_contacts(*, store: ProfileStore, identity: Identity, role: ContactRole | None,
                        status: ContactStatus | None, after: str | None,
                        limit: int) -> tuple[list[dict], str | None]:
    """The requests of the actors the caller acts for (sent, received or both), by id."""
    repo = store.read
    own = [a.id for a in await repo.actors_owned_by(identity.sub) if rules.is_owner(identity, a)]
    if not own:
        return [], None
    found = await repo.list_contacts(actor_ids=own, role=role,
                                     statuses=[status] if status else None, after=after,
                                     limit=limit + 1)
    next_after = found[limit - 1].id if len(found) > limit else None
    return [mapping.contact_view(c) for c in found[:limit]], next_after

"""Turning consumed events into notifications: one handler per event type (`HANDLERS`)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Awaitable, Callable

from platform_common.events.models import (
    ActorData, ActorErasedData, ContactData, ItemData, MatchData,
)
from platform_common.observability import get_logger
from services.notifications.domain import erasure, messages, rules
from services.notifications.domain.models import NotificationDraft, Recipient
from services.notifications.service.deps import Deps
from services.notifications.service.engagements import on_shift, on_signup
from services.notifications.service.planning import notify_many

if TYPE_CHECKING:
    from platform_common.kafka import ConsumedEvent

log = get_logger(__name__)

EventHandler = Callable[[Deps, "ConsumedEvent"], Awaitable[None]]


async def handle_event(*, deps: Deps, event: ConsumedEvent) -> None:
    handler = HANDLERS.get(event.envelope.type)
    if handler is not None:  # other types on these topics say nothing to notify about
        await handler(deps, event)


async def handle_events(*, deps: Deps, events: list[ConsumedEvent]) -> None:
    """A batch in offset order: consecutive match.found events are stored together (a few round
    trips for the whole run), every other event one by one, so the order per pair holds."""
    run: list[tuple[MatchData, datetime]] = []
    for event in events:
        if event.envelope.type == "match.found":
            run.append((event.data, event.envelope.occurred_at))
            continue
        if run:
            await on_matches_found(deps=deps, matches=run)
            run = []
        await handle_event(deps=deps, event=event)
    if run:
        await on_matches_found(deps=deps, matches=run)


async def apply_actor(*, deps: Deps, actor: ActorData) -> None:
    stored = await deps.recipients.apply(Recipient(
        actor_id=actor.id, tenant=actor.tenant, name=actor.name, email=actor.email,
        locale=actor.locale, owners=actor.owners, version=actor.version))
    # A match can overtake its recipient's actor event (they travel on different topics): its
    # mail waits; now that the recipient is known it goes out at once.
    if stored and await deps.deliveries.release_waiting(actor_id=actor.id, now=deps.clock()):
        deps.wake_retries()


async def erase_actor(*, deps: Deps, erased: ActorErasedData) -> None:
    """GDPR erasure: everything about the actor goes; only its id stays, to ignore late events.
    The other parties' notifications keep what happened but lose the actor's name, messages
    and item titles (their pending mails are rendered from them, so they lose them too)."""
    await deps.recipients.erase(erased.id, erased.version)
    await deps.preferences.delete_actor(erased.id)
    await deps.deliveries.delete_actor(erased.id)
    await deps.notifications.delete_actor(erased.id)
    await deps.reminders.delete_actor(erased.id)
    await deps.engagements.delete_actor(erased.id)
    mentioning = await deps.notifications.mentioning(erased.id)
    others = sorted({actor_id for n in mentioning
                     for actor_id in erasure.mentioned_actors(n.data)} - {erased.id})
    names = {actor_id: recipient.name
             for actor_id, recipient in (await deps.recipients.get_many(others)).items()}
    rewritten = []
    for notification in mentioning:
        texts = erasure.without_erased(type_=notification.type, data=notification.data,
                                       erased={erased.id}, names=names)
        if texts is not None:
            rewritten.append((notification.id, *texts))
    await deps.notifications.rewrite(rewritten)
    log.info("actor_erased", actor_id=erased.id, anonymised_notifications=len(rewritten))


async def on_match_found(*, deps: Deps, match: MatchData, event_at: datetime) -> None:
    await on_matches_found(deps=deps, matches=[(match, event_at)])


async def on_matches_found(*, deps: Deps, matches: list[tuple[MatchData, datetime]]) -> None:
    pairs = sorted({rules.pair_key(match.offer.id, match.need.id) for match, _ in matches})
    withdrawals = await deps.match_history.withdrawals_of(pairs)
    drafts: list[NotificationDraft] = []
    for match, event_at in matches:
        offer, need = match.offer, match.need
        pair = rules.pair_key(offer.id, need.id)
        round_ = rules.match_round(event_at, withdrawals.get(pair, []))
        # All reasons, strongest first: the inbox shows them all, a mail the top ones.
        reasons = sorted((reason.model_dump() for reason in match.reasons),
                         key=lambda reason: reason["contribution"], reverse=True)
        for actor_id, role in rules.match_recipients(offer_actor_id=offer.actor_id,
                                                     need_actor_id=need.actor_id):
            own, other = (need, offer) if role == "need" else (offer, need)
            title, body = messages.match_texts(role=role, offer_title=offer.title,
                                               need_title=need.title, score=match.score)
            data = {
                "offer_id": offer.id, "need_id": need.id,
                "offer_title": offer.title, "need_title": need.title,
                "role": role, "item_id": own.id,
                "counterpart": {"kind": "need" if role == "offer" else "offer", "id": other.id,
                                "title": other.title, "actor_id": other.actor_id,
                                "tenant": other.tenant},
                "score": match.score, "reasons": reasons,
                "link": deps.link("need", need.id), "offer_link": deps.link("offer", offer.id),
            }
            drafts.append(NotificationDraft(
                type="match.found", actor_id=actor_id, tenant=own.tenant, title=title, body=body,
                data=data, event_at=event_at, pair=pair,
                dedupe_key=rules.match_key(offer_id=offer.id, need_id=need.id,
                                           actor_id=actor_id, round_=round_)))
    await notify_many(deps=deps, drafts=drafts)


async def on_match_withdrawn(*, deps: Deps, match: MatchData, event_id: str,
                             event_at: datetime) -> None:
    """Nobody is told; the match's notifications are flagged and leave the pending digests."""
    pair = rules.pair_key(match.offer.id, match.need.id)
    await deps.match_history.record_withdrawal(event_id=event_id, pair=pair, at=event_at)
    withdrawn = await deps.notifications.mark_withdrawn(pair, before=event_at)
    await deps.deliveries.cancel_deferred(await _fully_withdrawn(deps, withdrawn),
                                          reason="the match was withdrawn", now=deps.clock())


async def _fully_withdrawn(deps: Deps, withdrawn: list[str]) -> list[str]:
    """Of the just withdrawn notifications, those whose deliveries tell nothing else: a pair
    of a coalescing window only once every pair of its window is withdrawn (the deliveries of
    a window name all its pairs; the others are still to be told)."""
    if not withdrawn:
        return []
    grouped = {n.group_id for n in await deps.notifications.get_many(withdrawn)
               if n.group_id is not None}
    leads = await deps.notifications.get_many(sorted(grouped)) if grouped else []
    partly = set()
    for lead in leads:
        members = await deps.notifications.get_many(lead.member_ids)
        if not all(member.withdrawn for member in members):
            partly.update(lead.member_ids)
    return [identifier for identifier in withdrawn if identifier not in partly]


async def on_item_hidden(*, deps: Deps, item: ItemData, event_at: datetime) -> None:
    """A moderator hid the item: its owners learn it, and why."""
    reason = item.hidden_reason or "—"
    title, body = messages.item_hidden_texts(kind=item.kind, title=item.title, reason=reason)
    await notify_many(deps=deps, drafts=[NotificationDraft(
        type="item.hidden", actor_id=item.actor_id, tenant=item.tenant, title=title, body=body,
        data={"item_id": item.id, "kind": item.kind, "item_title": item.title, "reason": reason,
              "link": deps.link(item.kind, item.id)},
        event_at=event_at,
        dedupe_key=rules.item_hidden_key(item_id=item.id, version=item.version,
                                         actor_id=item.actor_id))])


async def on_contact(*, deps: Deps, contact: ContactData, event_at: datetime) -> None:
    requester = await deps.recipients.get(contact.requester_actor_id)
    recipient = await deps.recipients.get(contact.recipient_actor_id)
    unknown = [p for p, known in ((contact.requester_actor_id, requester),
                                  (contact.recipient_actor_id, recipient)) if known is None]
    if unknown and await deps.recipients.erased_among(unknown):
        # A late event of a party erased meanwhile: its message goes with it.
        contact = contact.model_copy(update={"message": ""})
    title, body = messages.contact_texts(
        status=contact.status, message=contact.message,
        requester_name=requester.name if requester else None,
        recipient_name=recipient.name if recipient else None)
    tenants = {contact.requester_actor_id: contact.requester_tenant,
               contact.recipient_actor_id: contact.recipient_tenant}
    data = {"contact_id": contact.id, "status": contact.status, "offer_id": contact.offer_id,
            "need_id": contact.need_id, "message": contact.message,
            "requester_actor_id": contact.requester_actor_id,
            "recipient_actor_id": contact.recipient_actor_id,
            "link": deps.link("need", contact.need_id)}
    await notify_many(deps=deps, drafts=[
        NotificationDraft(type=f"contact.{contact.status}", actor_id=actor_id,
                          tenant=tenants[actor_id], title=title, body=body, data=data,
                          event_at=event_at,
                          dedupe_key=rules.contact_key(status=contact.status,
                                                       contact_id=contact.id, actor_id=actor_id))
        for actor_id in rules.contact_recipients(status=contact.status,
                                                 requester_actor_id=contact.requester_actor_id,
                                                 recipient_actor_id=contact.recipient_actor_id)])


# ---- the table: event type -> handler ------------------------------------------------------------

async def _actor_changed(deps: Deps, event: ConsumedEvent) -> None:
    await apply_actor(deps=deps, actor=event.data)


async def _actor_erased(deps: Deps, event: ConsumedEvent) -> None:
    await erase_actor(deps=deps, erased=event.data)


async def _match_found(deps: Deps, event: ConsumedEvent) -> None:
    await on_match_found(deps=deps, match=event.data, event_at=event.envelope.occurred_at)


async def _match_withdrawn(deps: Deps, event: ConsumedEvent) -> None:
    await on_match_withdrawn(deps=deps, match=event.data, event_id=str(event.envelope.id),
                             event_at=event.envelope.occurred_at)


async def _contact(deps: Deps, event: ConsumedEvent) -> None:
    await on_contact(deps=deps, contact=event.data, event_at=event.envelope.occurred_at)


async def _item_closed(deps: Deps, event: ConsumedEvent) -> None:
    # Only a moderator's hiding is told; an owner closing its own item tells nobody.
    if event.data.status == "hidden":
        await on_item_hidden(deps=deps, item=event.data, event_at=event.envelope.occurred_at)


async def _shift(deps: Deps, event: ConsumedEvent) -> None:
    await on_shift(deps=deps, shift=event.data, type_=event.envelope.type,
                   event_at=event.envelope.occurred_at)


async def _signup(deps: Deps, event: ConsumedEvent) -> None:
    await on_signup(deps=deps, signup=event.data, type_=event.envelope.type,
                    event_at=event.envelope.occurred_at)


# hours.* tell nobody: they are acknowledged (no handler) like any other type without one.
HANDLERS: dict[str, EventHandler] = {
    "actor.registered": _actor_changed,
    "actor.updated": _actor_changed,
    "actor.erased": _actor_erased,
    "match.found": _match_found,
    "match.withdrawn": _match_withdrawn,
    "contact.requested": _contact,
    "contact.accepted": _contact,
    "contact.declined": _contact,
    "offer.closed": _item_closed,
    "need.closed": _item_closed,
    "shift.scheduled": _shift,
    "shift.changed": _shift,
    "shift.cancelled": _shift,
    "signup.confirmed": _signup,
    "signup.waitlisted": _signup,
    "signup.promoted": _signup,
    "signup.cancelled": _signup,
    "signup.removed": _signup,
}

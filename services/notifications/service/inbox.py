"""What the owners of actors see and do through the API: their inbox, their deliveries,
the export of everything held about their actors."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from platform_common.errors import NotFound, invalid_cursor
from platform_common.identity import Identity
from services.notifications.domain import messages
from services.notifications.domain.models import Delivery, Notification, Preferences, Recipient
from services.notifications.domain.paging import decode_cursor, encode_cursor
from services.notifications.service.deps import Deps
from services.notifications.service.engagements import reminder_view


def notification_view(notification: Notification) -> dict[str, Any]:
    return {"id": notification.id, "type": notification.type, "actor_id": notification.actor_id,
            "title": notification.title.model_dump(), "body": notification.body.model_dump(),
            "created_at": notification.created_at, "read": notification.read,
            "withdrawn": notification.withdrawn, "data": notification.data}


def coalesced_view(lead: Notification, members: list[Notification]) -> dict[str, Any]:
    """The inbox entry of a coalescing window with several pairs: one entry, "3 neue
    Vorschläge für …", its `data` the first pair's plus `pairs` (each pair's data with its id,
    its own title and body, and whether it was withdrawn); withdrawn once every pair is."""
    members = members or [lead]
    title, body = messages.coalesced_notification_texts(members)
    view = notification_view(lead)
    view.update(title=title.model_dump(), body=body.model_dump(),
                withdrawn=all(member.withdrawn for member in members),
                data={**lead.data, "pairs": [
                    {**member.data, "notification_id": member.id,
                     "title": member.title.model_dump(), "body": member.body.model_dump(),
                     "withdrawn": member.withdrawn} for member in members]})
    return view


async def inbox_views(deps: Deps, notifications: list[Notification]) -> list[dict[str, Any]]:
    """The views of inbox entries: a coalesced one lists its pairs (read in one go)."""
    wanted = [member_id for n in notifications if len(n.member_ids) > 1
              for member_id in n.member_ids]
    members = {m.id: m for m in await deps.notifications.get_many(wanted)} if wanted else {}
    views = []
    for notification in notifications:
        # Stored pairs only: a lead may list a pair that a crash kept from being stored.
        pairs = [members[i] for i in notification.member_ids if i in members]
        views.append(coalesced_view(notification, pairs) if len(pairs) > 1
                     else notification_view(notification))
    return views


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    return delivery.model_dump(exclude={"key"})


def preferences_view(preferences: Preferences, *, new_secret: str | None = None) -> dict[str, Any]:
    return {"actor_id": preferences.actor_id, "channels": preferences.channels.model_dump(),
            "frequency": preferences.frequency, "webhook_url": preferences.webhook_url,
            # The secret is shown once, when it is made; afterwards only whether one exists.
            "webhook_secret": new_secret,
            "webhook_secret_set": preferences.webhook_secret is not None,
            "reminder_hours": list(preferences.reminder_hours)}


async def owned_actor_ids(deps: Deps, identity: Identity) -> list[str]:
    return [recipient.actor_id for recipient in await deps.recipients.owned_by(identity.sub)]


async def owned_recipient(deps: Deps, identity: Identity, actor_id: str) -> Recipient:
    recipient = await deps.recipients.get(actor_id)
    if recipient is None or identity.sub not in recipient.owners:
        # The same answer for "not yours" and "does not exist": ids are not probed.
        raise NotFound(f"actor {actor_id!r} is not one of yours")
    return recipient


def _position(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError:
        raise invalid_cursor("cursor") from None


async def list_notifications(*, deps: Deps, identity: Identity, unread: bool | None,
                             limit: int, cursor: str | None) -> dict[str, Any]:
    actor_ids = await owned_actor_ids(deps, identity)
    after = _position(cursor)
    if not actor_ids:
        return {"items": [], "next_cursor": None}
    found = await deps.notifications.page(actor_ids, unread_only=bool(unread), limit=limit + 1,
                                          after=after)
    items = found[:limit]
    next_cursor = (encode_cursor(items[-1].created_at, items[-1].id)
                   if len(found) > limit else None)
    return {"items": await inbox_views(deps, items), "next_cursor": next_cursor}


async def mark_read(*, deps: Deps, identity: Identity, notification_id: str) -> dict[str, Any]:
    notification = await deps.notifications.mark_read(
        notification_id, await owned_actor_ids(deps, identity))
    if notification is None:
        raise NotFound.of("notification", notification_id)
    return (await inbox_views(deps, [notification]))[0]


async def mark_all_read(*, deps: Deps, identity: Identity) -> dict[str, int]:
    actor_ids = await owned_actor_ids(deps, identity)
    return {"updated": await deps.notifications.mark_all_read(actor_ids) if actor_ids else 0}


async def list_deliveries(*, deps: Deps, identity: Identity, limit: int,
                          cursor: str | None) -> dict[str, Any]:
    actor_ids = await owned_actor_ids(deps, identity)
    after = _position(cursor)
    if not actor_ids:
        return {"items": [], "next_cursor": None}
    found = await deps.deliveries.page(actor_ids, limit=limit + 1, after=after)
    items = found[:limit]
    next_cursor = (encode_cursor(items[-1].created_at, items[-1].id)
                   if len(found) > limit else None)
    return {"items": [delivery_view(d) for d in items], "next_cursor": next_cursor}


async def export_data(*, deps: Deps, identity: Identity) -> dict[str, Any]:
    """Everything this service holds about the caller's actors (GDPR Art. 15/20)."""
    actors = []
    for recipient in await deps.recipients.owned_by(identity.sub):
        actor_ids = [recipient.actor_id]
        preferences = (await deps.preferences.get(recipient.actor_id)
                       or Preferences.default(recipient.actor_id))
        actors.append({
            "actor_id": recipient.actor_id,
            "recipient": recipient.model_dump(exclude={"actor_id"}),
            "preferences": preferences_view(preferences),
            "notifications": [notification_view(n)
                              for n in await deps.notifications.for_actors(actor_ids)],
            "deliveries": [delivery_view(d) for d in await deps.deliveries.for_actors(actor_ids)],
            "reminders": [reminder_view(r) for r in await deps.reminders.for_actors(actor_ids)
                          if r.status == "scheduled"],
        })
    return {"service": "notifications", "subject": identity.sub,
            "exported_at": deps.clock(), "actors": actors}



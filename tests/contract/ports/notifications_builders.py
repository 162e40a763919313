"""Small builders of the notifications service's stored models for its port contract suites.
Times are whole milliseconds in UTC: what MongoDB stores and gives back."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from services.notifications.domain import rules
from services.notifications.domain.models import Delivery, Localized, Notification, Recipient

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    """T0 plus `seconds` (whole milliseconds)."""
    return T0 + timedelta(milliseconds=round(seconds * 1000))


def new_id(prefix: str = "id") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def recipient(actor_id: str, *, version: int = 1, owners: list[str] | None = None,
              name: str = "Tafel Köln e.V.", email: str | None = None) -> Recipient:
    return Recipient(actor_id=actor_id, tenant="koeln", name=name,
                     email=email or f"{actor_id}@example.org", locale="de",
                     owners=owners if owners is not None else [f"user-{actor_id}"],
                     version=version)


def notification(actor_id: str, *, created_at: datetime = T0, id: str | None = None,
                 dedupe_key: str | None = None, read: bool = False, in_inbox: bool = True,
                 pair: str | None = None, event_at: datetime | None = None,
                 data: dict[str, Any] | None = None,
                 type: str = "match.found") -> Notification:
    return Notification(
        id=id or new_id("n"), type=type, actor_id=actor_id, tenant="koeln",
        title=Localized(de="Titel", en="Title"), body=Localized(de="Text", en="Text"),
        data=data if data is not None else {"offer_title": "Fahrdienst"},
        created_at=created_at, event_at=event_at or created_at,
        dedupe_key=dedupe_key or new_id("key"), read=read, in_inbox=in_inbox, pair=pair)


def delivery(actor_id: str, *, key: str | None = None, status: str = "pending",
             created_at: datetime = T0, next_retry_at: datetime | None = None,
             notification_ids: list[str] | None = None, channel: str = "email",
             kind: str = "instant") -> Delivery:
    key = key or rules.delivery_key(notification_id=new_id("n"), channel=channel)
    return Delivery(id=rules.delivery_id(key), key=key, actor_id=actor_id, channel=channel,
                    kind=kind, notification_ids=notification_ids or [new_id("n")],
                    status=status, target=f"{actor_id}@example.org", created_at=created_at,
                    updated_at=created_at, next_retry_at=next_retry_at)

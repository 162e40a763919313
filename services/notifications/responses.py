"""What the notifications routes answer, as OpenAPI states it (`responses=` of each route)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from platform_common.http.openapi import ERROR_REF, error_response_document
from services.notifications.domain.models import (
    Channels, DeliveryChannel, DeliveryKind, DeliveryStatus, Frequency, Localized, NotificationType,
)


class NotificationView(BaseModel):
    id: str
    type: NotificationType
    actor_id: str
    title: Localized
    body: Localized
    created_at: datetime
    read: bool
    withdrawn: bool
    data: dict[str, Any]


class NotificationPage(BaseModel):
    items: list[NotificationView]
    next_cursor: str | None = Field(description="`cursor` of the next page; null at the end")


class MarkedRead(BaseModel):
    updated: int = Field(description="How many notifications were marked read")


class DeliveryView(BaseModel):
    id: str
    actor_id: str
    channel: DeliveryChannel
    kind: DeliveryKind
    notification_ids: list[str]
    status: DeliveryStatus
    attempts: int
    rounds: int
    digest_id: str | None = None
    last_error: str | None = None
    target: str | None = None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None
    next_retry_at: datetime | None = None


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_cursor: str | None


class PreferencesView(BaseModel):
    actor_id: str
    channels: Channels
    frequency: Frequency
    webhook_url: str | None
    webhook_secret: str | None = Field(description="Only in the answer that made a new secret")
    webhook_secret_set: bool
    reminder_hours: list[int] = Field(description="Hours before a confirmed shift at which "
                                                  "reminders go out ([] = none); a change "
                                                  "re-plans the reminders not yet sent")


class PreferencesList(BaseModel):
    items: list[PreferencesView]


class NotificationsExport(BaseModel):
    service: str
    subject: str
    exported_at: datetime
    actors: list[dict[str, Any]]


# The unsubscribe page: HTML, 200 when done, 400 for an unknown or expired token (the gateway's
# own 400s are JSON).
UNSUBSCRIBE_PAGE = {"text/html": {"schema": {"type": "string"}}}
UNSUBSCRIBE_RESPONSES = {
    200: {"description": "E-mail is off for that actor (an HTML page)", "content": UNSUBSCRIBE_PAGE},
    400: {"description": "The token is unknown or expired (an HTML page), or the request is "
                         "malformed (JSON error)",
          "content": {**UNSUBSCRIBE_PAGE,
                      "application/json": {"schema": {"$ref": ERROR_REF}}}},
    # JSON like every error (the route's HTML would otherwise be assumed)
    422: error_response_document(422),
}

"""HTTP routes. The gateway maps /api/v1/me/notifications, /api/v1/me/notification-preferences,
/api/v1/me/deliveries, /api/v1/me/export (this service's part) and /api/v1/unsubscribe here;
/internal/* is not routed from outside and answers only a service credential (X-Service-Token)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from platform_common.http import answers, current_process
from platform_common.http.json_body import StrictJsonRoute
from platform_common.http.auth import CurrentIdentity, internal_caller
from services.notifications import service
from services.notifications.bootstrap import NotificationsProcess
from services.notifications.domain import messages
from services.notifications.domain.models import Frequency
from services.notifications.responses import (
    UNSUBSCRIBE_RESPONSES, DeliveryPage, MarkedRead, NotificationPage, NotificationsExport,
    NotificationView, PreferencesList, PreferencesView,
)
from services.notifications.service import Deps


def use_case_deps(process: Annotated[NotificationsProcess, Depends(current_process)]) -> Deps:
    """What the use cases take, from the process the app runs."""
    return process.deps


UseCaseDeps = Annotated[Deps, Depends(use_case_deps)]
Limit = Annotated[int, Query(ge=1, le=100)]
# A cursor that is not one of ours (or too long) is a 400 `invalid_cursor`, as in every list.
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]

router = APIRouter(route_class=StrictJsonRoute)


class ChannelsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: bool | None = None
    inbox: bool | None = None
    webhook: bool | None = None


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor_id: str | None = Field(None, min_length=1, max_length=200)
    channels: ChannelsUpdate | None = None
    frequency: Frequency | None = None
    webhook_url: str | None = Field(None, max_length=2000)
    rotate_webhook_secret: bool = False
    # Range and count are checked by the use case (422 on `reminder_hours`).
    reminder_hours: list[StrictInt] | None = None


@router.get("/me/notifications", tags=["inbox"], responses=answers(NotificationPage, 400, 422))
async def list_notifications(identity: CurrentIdentity, deps: UseCaseDeps,
                             unread: bool | None = None, limit: Limit = 20,
                             cursor: Cursor = None):
    """The caller's inbox (all actors they own), newest first."""
    return await service.list_notifications(deps=deps, identity=identity, unread=unread,
                                            limit=limit, cursor=cursor)


@router.post("/me/notifications/read-all", tags=["inbox"], responses=answers(MarkedRead))
async def mark_all_read(identity: CurrentIdentity, deps: UseCaseDeps):
    return await service.mark_all_read(deps=deps, identity=identity)


@router.post("/me/notifications/{notification_id}/read", tags=["inbox"],
             responses=answers(NotificationView, 404, 422))
async def mark_read(notification_id: Annotated[str, Path(max_length=200)],
                    identity: CurrentIdentity, deps: UseCaseDeps):
    return await service.mark_read(deps=deps, identity=identity, notification_id=notification_id)


@router.get("/me/notification-preferences", tags=["preferences"],
            responses=answers(PreferencesView | PreferencesList, 404, 422))
async def get_preferences(identity: CurrentIdentity, deps: UseCaseDeps,
                          actor_id: Annotated[str | None, Query(max_length=200)] = None):
    """One actor's preferences with `actor_id`, else `{"items": [...]}` for all the caller's actors."""
    return await service.get_preferences(deps=deps, identity=identity, actor_id=actor_id)


@router.put("/me/notification-preferences", tags=["preferences"],
            responses=answers(PreferencesView, 404, 422))
async def put_preferences(update: PreferencesUpdate, identity: CurrentIdentity, deps: UseCaseDeps):
    """Change the given fields. Setting a new `webhook_url` (or `rotate_webhook_secret`) answers
    with a new `webhook_secret` once; `"webhook_url": null` removes the webhook."""
    extra = {"webhook_url": update.webhook_url} if "webhook_url" in update.model_fields_set else {}
    return await service.update_preferences(
        deps=deps, identity=identity, actor_id=update.actor_id,
        channels=update.channels.model_dump(exclude_none=True) if update.channels else None,
        frequency=update.frequency, rotate_webhook_secret=update.rotate_webhook_secret,
        reminder_hours=update.reminder_hours, **extra)


@router.get("/me/deliveries", tags=["deliveries"], responses=answers(DeliveryPage, 400, 422))
async def list_deliveries(identity: CurrentIdentity, deps: UseCaseDeps, limit: Limit = 20,
                          cursor: Cursor = None):
    """E-mails, digests and webhooks to the caller's actors: status, attempts, last error."""
    return await service.list_deliveries(deps=deps, identity=identity, limit=limit, cursor=cursor)


@router.get("/me/export", tags=["gdpr"], responses=answers(NotificationsExport))
async def export(identity: CurrentIdentity, deps: UseCaseDeps):
    return await service.export_data(deps=deps, identity=identity)


async def _unsubscribe_page(deps: Deps, token: str) -> HTMLResponse:
    locale, done = await service.unsubscribe(deps=deps, token=token)
    title, message = messages.unsubscribe_page(locale, done=done)
    return HTMLResponse(messages.simple_page(locale, title, message),
                        status_code=200 if done else 400)


@router.get("/unsubscribe", response_class=HTMLResponse, tags=["unsubscribe"],
            responses=UNSUBSCRIBE_RESPONSES)
async def unsubscribe(deps: UseCaseDeps, token: Annotated[str, Query(max_length=1000)] = ""):
    """The link in every mail: turns e-mail off for that actor and says so on a small page."""
    return await _unsubscribe_page(deps, token)


@router.post("/unsubscribe", response_class=HTMLResponse, tags=["unsubscribe"],
             responses=UNSUBSCRIBE_RESPONSES)
async def unsubscribe_one_click(deps: UseCaseDeps,
                                token: Annotated[str, Query(max_length=1000)] = ""):
    """RFC 8058 one-click unsubscribe: mail clients POST to the List-Unsubscribe URL (the form
    body only says "List-Unsubscribe=One-Click"; the token is in the URL)."""
    return await _unsubscribe_page(deps, token)


# Operators' routes: only the notifications service's own credential, as the admin command
# (services/notifications/admin.py) signs it inside its pod; no other service triggers them.
@router.post("/internal/digests/run", tags=["internal"],
             dependencies=[internal_caller("notifications")])
async def run_digests(deps: UseCaseDeps):
    """Send the daily digests now (the periodic task does this from DIGEST_HOUR on)."""
    return await service.run_digests(deps=deps, force=True)


@router.post("/internal/deliveries/retry", tags=["internal"],
             dependencies=[internal_caller("notifications")])
async def retry_deliveries(deps: UseCaseDeps):
    """Run one round of the periodic retry task now (only deliveries whose retry time has come)."""
    return await service.retry_due_deliveries(deps=deps)

"""Each actor's notification preferences: channels, frequency, its webhook, and the
unsubscribe link of every mail."""
from __future__ import annotations

from typing import Any

from platform_common.errors import invalid
from platform_common.identity import Identity
from platform_common.observability import get_logger
from services.notifications.domain import rules
from services.notifications.domain.models import Channels, Preferences
from services.notifications.domain.signing import new_webhook_secret, read_unsubscribe_token
from services.notifications.domain.webhooks import validate_webhook_url
from services.notifications.service.deps import Deps
from services.notifications.service.engagements import replan_reminders
from services.notifications.service.inbox import (
    owned_actor_ids, owned_recipient, preferences_view,
)

log = get_logger(__name__)


async def get_preferences(*, deps: Deps, identity: Identity,
                          actor_id: str | None) -> dict[str, Any]:
    if actor_id is not None:
        await owned_recipient(deps, identity, actor_id)
        preferences = await deps.preferences.get(actor_id) or Preferences.default(actor_id)
        return preferences_view(preferences)
    items = []
    for owned in await owned_actor_ids(deps, identity):
        items.append(preferences_view(await deps.preferences.get(owned)
                                      or Preferences.default(owned)))
    return {"items": items}


UNSET: Any = object()


async def update_preferences(*, deps: Deps, identity: Identity, actor_id: str | None,
                             channels: dict[str, bool] | None, frequency: str | None,
                             webhook_url: str | None = UNSET,
                             rotate_webhook_secret: bool = False,
                             reminder_hours: list[int] | None = None) -> dict[str, Any]:
    """Change what is given; a new webhook URL (or a rotation) makes a new secret, shown once.
    New `reminder_hours` apply to the person's upcoming reminders too: the change is stored
    marked for a re-plan, which runs here and, should this process die first, in the reminder
    task (`engagements.replan_reminders`)."""
    hours = None
    if reminder_hours is not None:
        hours = rules.validate_reminder_hours(reminder_hours)
        if isinstance(hours, str):
            raise invalid(["reminder_hours"], hours)
    if actor_id is None:
        owned = await owned_actor_ids(deps, identity)
        if len(owned) != 1:
            raise invalid(["actor_id"], "is required when you manage more than one actor"
                              if owned else "none of your actors is known yet")
        actor_id = owned[0]
    await owned_recipient(deps, identity, actor_id)
    current = await deps.preferences.get(actor_id) or Preferences.default(actor_id)
    updated = current.model_copy(deep=True)
    if channels:
        updated.channels = Channels(**{**current.channels.model_dump(), **channels})
    if frequency is not None:
        updated.frequency = frequency
    if hours is not None and hours != current.reminder_hours:
        updated.reminder_hours = hours
        updated.reminders_replan_since = deps.clock()
    new_secret = None
    if webhook_url is not UNSET and webhook_url != current.webhook_url:
        if webhook_url is None:
            updated.webhook_url, updated.webhook_secret = None, None
        else:
            updated.webhook_url = await _checked_webhook_url(deps, webhook_url)
            rotate_webhook_secret = True
    if rotate_webhook_secret and updated.webhook_url:
        new_secret = updated.webhook_secret = new_webhook_secret()
    if updated.channels.webhook and not updated.webhook_url:
        raise invalid(["webhook_url"], "is required when the webhook channel is on")
    await deps.preferences.save(updated)
    if updated.reminders_replan_since is not None:  # this change's, or one a crash left
        await replan_reminders(deps=deps, actor_id=actor_id)
    return preferences_view(updated, new_secret=new_secret)


async def _checked_webhook_url(deps: Deps, url: str) -> str:
    try:
        url = validate_webhook_url(url)
        await deps.webhooks.ensure_allowed(url)
    except ValueError as exc:
        raise invalid(["webhook_url"], str(exc)) from None
    return url


async def unsubscribe(*, deps: Deps, token: str) -> tuple[str, bool]:
    """Turn e-mail off for the token's actor: (locale for the answer page, whether it worked)."""
    actor_id = read_unsubscribe_token(deps.secret, token)
    if actor_id is None:
        return "de", False
    recipient = await deps.recipients.get(actor_id)
    if recipient is None:
        return "de", True  # erased or unknown: there is nothing left to send to
    preferences = await deps.preferences.get(actor_id) or Preferences.default(actor_id)
    if preferences.channels.email:
        preferences.channels.email = False
        await deps.preferences.save(preferences)
        log.info("unsubscribed", actor_id=actor_id)
    return recipient.locale, True


"""What the notifications service does: turn events into notifications, deliver them through
the recipients' channels exactly once, retry what failed, send digests, and answer the owners
of actors about their notifications, preferences and deliveries.

Delivery rule: every delivery is claimed first by inserting its record under a unique key
(one per notification and channel, one digest per actor and day); only the instance whose insert
succeeded sends. A redelivered event, a second match.found or a second consumer instance finds
the key taken and sends nothing.

    handlers     consumed events -> notifications (one handler per event type)
    planning     store each notification once, claim its deliveries, the rate limit, close
                 coalescing windows
    coalescing   the windows that make a burst of pairs for one item one notification
    sending      render, send, record; the retry task's rounds
    engagements  shifts and sign-ups: their notifications, the read model, the reminders
                 (re-planned when a person changes reminder_hours)
    digests      the daily digest
    inbox        the owners' inbox, deliveries and export
    preferences  channels, frequency, webhook, unsubscribe
"""
from services.notifications.service.deps import Deps, utc_now
from services.notifications.service.digests import run_digests
from services.notifications.service.engagements import (
    on_shift, on_signup, reminder_view, replan_reminders, run_reminder_task, send_due_reminders,
)
from services.notifications.service.handlers import (
    HANDLERS, apply_actor, erase_actor, handle_event, handle_events, on_contact, on_item_hidden,
    on_match_found, on_match_withdrawn, on_matches_found,
)
from services.notifications.service.inbox import (
    delivery_view, export_data, list_deliveries, list_notifications, mark_all_read, mark_read,
    notification_view, preferences_view,
)
from services.notifications.service.planning import (
    check_waiting_deliveries, close_windows, notify, notify_many,
)
from services.notifications.service.preferences import (
    get_preferences, unsubscribe, update_preferences,
)
from services.notifications.service.sending import (
    attempt_delivery, record_attempt, retry_due_deliveries, send_delivery, send_jobs,
)

__all__ = [
    "Deps", "HANDLERS", "apply_actor", "attempt_delivery", "check_waiting_deliveries",
    "close_windows",
    "delivery_view", "erase_actor", "export_data", "get_preferences", "handle_event",
    "handle_events", "list_deliveries", "list_notifications", "mark_all_read", "mark_read",
    "notification_view", "notify", "notify_many", "on_contact", "on_item_hidden",
    "on_match_found", "on_match_withdrawn", "on_matches_found", "on_shift", "on_signup",
    "preferences_view", "record_attempt", "reminder_view", "replan_reminders",
    "retry_due_deliveries", "run_digests", "run_reminder_task", "send_delivery",
    "send_due_reminders", "send_jobs",
    "unsubscribe", "update_preferences", "utc_now",
]

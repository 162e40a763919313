"""What the profiles service does, one keyword-only function per use case, by aggregate.

Every change runs in one transaction together with the outbox record of its event; the relay
publishes it later. Functions receive the ports (the store, the suggestions, the statistics)
and the caller's identity; they raise platform_common.errors, which the app maps to HTTP.
Callers use `from services.profiles import service` and `service.<use case>`.
"""
from services.profiles.service.actors import (
    actor_view_for, add_member, close_actor, get_actor, my_actors, register_actor, remove_member,
    update_actor,
)
from services.profiles.service.common import SOURCE, new_id, now_ms
from services.profiles.service.contact_requests import (
    accept_contact, decline_contact, get_contact, list_contacts, request_contact,
)
from services.profiles.service.documents import (
    item_calendar, my_calendar, organisation_certificate, person_calendar, person_certificate,
    renew_my_calendar, tenant_calendar,
)
from services.profiles.service.engagements import (
    actor_hours, cancel_shift, cancel_signup, confirm_hours, create_shift, get_shift, list_shifts,
    my_signups, report_hours, shift_signups, sign_up, update_shift,
)
from services.profiles.service.internal import export_page, internal_owned_actors
from services.profiles.service.items import (
    EXPIRY_BATCH, close_item, create_item, expire_due_items, get_item, hide_item, item_views,
    list_items, moderation_items, pause_item, resume_item, unhide_item, update_item,
)
from services.profiles.service.personal_data import erase_me, export_me
from services.profiles.service.statistics import record_match_events, tenant_stats
from services.profiles.service.tenants import (
    create_tenant, get_tenant, list_tenants, update_tenant,
)

__all__ = [
    "EXPIRY_BATCH", "SOURCE", "accept_contact", "actor_view_for", "add_member", "close_actor",
    "close_item", "create_item", "create_tenant", "decline_contact", "erase_me", "expire_due_items",
    "export_me", "export_page", "get_actor", "get_contact", "get_item", "get_tenant", "hide_item",
    "internal_owned_actors", "item_views", "list_contacts", "list_items",
    "list_tenants", "moderation_items", "my_actors", "new_id", "now_ms", "pause_item",
    "record_match_events", "register_actor", "remove_member", "request_contact", "resume_item",
    "tenant_stats", "unhide_item", "update_actor", "update_item", "update_tenant",
    "actor_hours", "cancel_shift", "cancel_signup", "confirm_hours", "create_shift", "get_shift",
    "list_shifts", "my_signups", "report_hours", "shift_signups", "sign_up", "update_shift",
    "item_calendar", "my_calendar", "organisation_certificate", "person_calendar",
    "person_certificate", "renew_my_calendar", "tenant_calendar",
]

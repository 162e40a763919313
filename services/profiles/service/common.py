"""What every use case module shares: ids, the clock, the outbox write, small lookups."""
from __future__ import annotations

import uuid
from datetime import datetime

from platform_common.events import event_type, make_event, utcnow
from platform_common.identity import Identity
from platform_common.observability.tracing import current_traceparent
from services.profiles.domain import contacts, rules
from services.profiles.ports import Repository

SOURCE = "profiles"


def now_ms() -> datetime:
    """The current UTC time at MongoDB's millisecond precision."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_id() -> str:
    return str(uuid.uuid4())


async def emit(repo: Repository, name: str, *, tenant: str, subject: str, data) -> None:
    envelope = make_event(name, tenant=tenant, subject=subject, source=SOURCE, data=data)
    envelope = envelope.model_copy(update={"traceparent": current_traceparent()})
    await repo.add_event(envelope, topic=event_type(name).topic, key=subject)


async def neighbours_of(repo: Repository, tenant_id: str) -> list[str]:
    tenant = await repo.get_tenant(tenant_id)
    return tenant.neighbours if tenant is not None else []


async def own_actor_ids(repo: Repository, identity: Identity | None) -> list[str]:
    if identity is None:
        return []
    return [a.id for a in await repo.actors_owned_by(identity.sub) if rules.is_owner(identity, a)]


async def is_contact_partner(repo: Repository, actor_id: str, own_actor_ids: list[str]) -> bool:
    """Whether one of the caller's actors and `actor_id` agreed to a contact (both consented)."""
    return bool(own_actor_ids) and contacts.shares_accepted_contact(
        await repo.list_contacts(actor_ids=[actor_id], statuses=["accepted"]),
        actor_id=actor_id, own_actor_ids=own_actor_ids)

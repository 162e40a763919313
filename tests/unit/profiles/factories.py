"""Records for the profiles unit tests."""
from __future__ import annotations

from datetime import datetime, timezone

from platform_common.errors import DomainError
from platform_common.http.errors import DOMAIN_ERROR_STATUS, domain_error_status
from platform_common.identity import Identity
from services.profiles.app import ERROR_STATUSES
from services.profiles.domain import records
from services.profiles.domain.requests import ActorCreate, ItemCreate, TenantCreate

NOW = datetime(2030, 3, 1, 12, 0, tzinfo=timezone.utc)


def http_status(error: DomainError) -> int:
    """The status the profiles app answers for a domain error."""
    return domain_error_status(error, {**DOMAIN_ERROR_STATUS, **ERROR_STATUSES})


def who(sub: str = "anna", tenant: str = "coesfeld", *roles: str) -> Identity:
    return Identity(sub=sub, tenant=tenant, roles=frozenset(roles or ("member",)))


def tenant(tenant_id: str = "coesfeld", **extra) -> records.Tenant:
    return records.new_tenant(TenantCreate.model_validate(
        {"id": tenant_id, "name": tenant_id.title(), "center": {"lat": 51.9, "lon": 7.2}, **extra}),
        now=NOW)


def actor(owner: str = "anna", tenant_id: str = "coesfeld", actor_type: str = "association",
          actor_id: str = "actor-1") -> records.Actor:
    request = ActorCreate.model_validate({"type": actor_type, "name": "Tafel Coesfeld e.V.",
                                          "email": "info@tafel.example",
                                          "location": {"lat": 51.94, "lon": 7.17}})
    return records.new_actor(request, actor_id=actor_id, tenant=tenant_id, owner=owner, now=NOW)


def item_request(**overrides) -> ItemCreate:
    return ItemCreate.model_validate({
        "actor_id": "actor-1", "title": "Lebensmittelausgabe", "categories": ["social"],
        "engagement": "regular", "location": {"lat": 51.94, "lon": 7.17}, "capacity": 3,
        "schedule": {"weekly": [{"day": "tue", "start": "14:00", "end": "17:00"}]}, **overrides})


def item(kind: str = "need", owner_actor: records.Actor | None = None,
         item_id: str = "item-1", **overrides) -> records.Item:
    return records.new_item(item_request(**overrides), item_id=item_id, kind=kind,
                            actor=owner_actor or actor(), now=NOW)

"""Who may see an item and act for an actor: the one rule, kept by profiles (the system of
record) and applied by matching to its read model, so that both answer alike."""
from __future__ import annotations

from collections.abc import Collection, Iterable

from platform_common.identity import Identity

ALL_VISIBILITIES = frozenset({"tenant", "region", "state"})


def is_owner(identity: Identity | None, *, owners: Collection[str], actor_tenant: str | None) -> bool:
    """Owners act for an actor, and only from the actor's own tenant."""
    return identity is not None and identity.sub in owners and identity.tenant == actor_tenant


def can_moderate(identity: Identity | None, tenant: str) -> bool:
    """Tenant admins moderate their own tenant; operators every tenant."""
    return identity is not None and (
        identity.is_operator or (identity.has("tenant_admin") and identity.tenant == tenant))


def allowed_visibilities(caller_tenant: str | None, item_tenant: str,
                         item_tenant_neighbours: Iterable[str]) -> frozenset[str]:
    """The visibilities of published items of `item_tenant` a caller from `caller_tenant` sees."""
    if caller_tenant == item_tenant:
        return ALL_VISIBILITIES
    if caller_tenant is not None and caller_tenant in set(item_tenant_neighbours):
        return frozenset({"region", "state"})
    return frozenset({"state"})


def can_see_item(identity: Identity | None, *, tenant: str, status: str, visibility: str,
                 owner: bool, item_tenant_neighbours: Iterable[str]) -> bool:
    """Owners and moderators see an item in every status; others only a published one whose
    visibility reaches their tenant."""
    if owner or can_moderate(identity, tenant):
        return True
    if status != "published":
        return False
    caller_tenant = identity.tenant if identity is not None else None
    return visibility in allowed_visibilities(caller_tenant, tenant, item_tenant_neighbours)

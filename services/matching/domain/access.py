"""Who may see the suggestions of an item: they are private to the parties.

A suggestion (offer O, need N) may be seen by operators, by tenant admins of O's or N's
tenant, and by the owners of O's or N's actor (acting from the actor's own tenant, as in
profiles).
"""
from __future__ import annotations

from collections.abc import Collection

from platform_common.identity import Identity


def sees_by_role(identity: Identity, *, tenant: str) -> bool:
    """Operators everywhere, tenant admins in their own tenant."""
    return identity.is_operator or (identity.has("tenant_admin") and identity.tenant == tenant)


def owns_actor(identity: Identity, *, owners: Collection[str], actor_tenant: str | None) -> bool:
    return identity.sub in owners and identity.tenant == actor_tenant

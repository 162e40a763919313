"""Who may see an item's suggestions: the item itself as profiles shows it, and then only the
parties of each suggestion.

The item: `platform_common.visibility.can_see_item` (profiles' rule, applied to the directory).
A suggestion (offer O, need N) may be seen by operators, by tenant admins of O's or N's tenant,
and by the owners of O's or N's actor (acting from the actor's own tenant, as in profiles).
"""
from __future__ import annotations

from platform_common.identity import Identity
from platform_common.visibility import can_moderate, can_see_item, is_owner
from services.matching.domain.directory import DirectoryActor, DirectoryItem


def owns(identity: Identity, actor: DirectoryActor | None) -> bool:
    return actor is not None and is_owner(identity, owners=actor.owners, actor_tenant=actor.tenant)


def sees_item(identity: Identity, item: DirectoryItem, *, actor: DirectoryActor | None,
              tenant_neighbours: tuple[str, ...]) -> bool:
    """Whether profiles would show the item to the caller."""
    return can_see_item(identity, tenant=item.tenant, status=item.status,
                        visibility=item.visibility, owner=owns(identity, actor),
                        item_tenant_neighbours=tenant_neighbours)


def is_party(identity: Identity, *, tenant: str, actor: DirectoryActor | None) -> bool:
    """A party of one side (its `tenant`, its `actor`): by role or as an owner."""
    return can_moderate(identity, tenant) or owns(identity, actor)

"""The directory: what matching keeps of tenants, actors and items to answer who may see an
item's suggestions, taken from the events it consumes (the snapshots profiles publishes)."""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from platform_common.events.models import ActorData, ActorErasedData, ItemData, TenantData


@dataclass(frozen=True)
class DirectoryTenant:
    id: str
    neighbours: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class DirectoryActor:
    id: str
    tenant: str
    # None: not known (an actor first heard of through its erasure).
    type: str | None
    owners: tuple[str, ...]
    version: int
    erased: bool = False


@dataclass(frozen=True)
class DirectoryItem:
    id: str
    kind: str
    tenant: str
    actor_id: str
    status: str
    visibility: str
    version: int


DirectoryEntry = DirectoryTenant | DirectoryActor | DirectoryItem


def entry_of(data: BaseModel) -> DirectoryEntry | None:
    """The directory entry an event payload updates; None for payloads it does not keep."""
    if isinstance(data, TenantData):
        return DirectoryTenant(id=data.id, neighbours=tuple(data.neighbours), version=data.version)
    if isinstance(data, ActorData):
        return DirectoryActor(id=data.id, tenant=data.tenant, type=data.type,
                              owners=tuple(data.owners), version=data.version)
    if isinstance(data, ActorErasedData):
        # Nobody owns an erased actor any more (profiles deleted it): no owner sees its items.
        return DirectoryActor(id=data.id, tenant=data.tenant, type=None, owners=(),
                              version=data.version, erased=True)
    if isinstance(data, ItemData):
        return DirectoryItem(id=data.id, kind=data.kind, tenant=data.tenant,
                             actor_id=data.actor_id, status=data.status,
                             visibility=data.visibility, version=data.version)
    return None


def newest(entries: list[DirectoryEntry]) -> list[DirectoryEntry]:
    """The newest version of each entry (by kind and id), in first-seen order."""
    kept: dict[tuple[type, str], DirectoryEntry] = {}
    for entry in entries:
        key = (type(entry), entry.id)
        if key not in kept or entry.version > kept[key].version:
            kept[key] = entry
    return list(kept.values())

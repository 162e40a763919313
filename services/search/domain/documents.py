"""How entity snapshots from events become search documents (pure functions, no I/O).

Every kind shares the same field names for what is searched and shown (`title`, `description`,
`location`, `tenant`, `actor_type`, `visible_to`, `status`, `updated_at`), so one query builder
serves offers, needs and actors. The entity `version` travels along: the index applies a
document only when its version is newer than what it holds.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from platform_common.events.models import ActorData, ActorErasedData, ItemData, TenantData
from platform_common.privacy import public_location
from services.search.domain.geo import valid_point
from services.search.domain.schedule import schedule_facets
from services.search.domain.visibility import actor_visible_to, item_visible_to

SEARCHABLE_STATUS = "published"
ERASED_STATUS = "erased"


class InvalidDocument(ValueError):
    """An event payload the index must not store (e.g. coordinates outside the globe)."""


def _location(lat: float, lon: float) -> dict[str, float]:
    if not valid_point(lat, lon):
        raise InvalidDocument(f"coordinates out of range: lat={lat}, lon={lon}")
    return {"lat": lat, "lon": lon}


def _public_location(lat: float, lon: float, *, actor_type: str) -> dict[str, float]:
    """The index is a public read model: a person's point (and its items') only coarsened, so
    neither results, distances nor radius filters can single out a home."""
    return public_location(_location(lat, lon), actor_type=actor_type)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def item_status(item: ItemData, event_type: str | None) -> str:
    # A close event is final even if a producer forgot to set the status in the snapshot.
    if event_type is not None and event_type.endswith(".closed") and item.status == "published":
        return "closed"
    return item.status


def item_document(item: ItemData, *, neighbours: Iterable[str],
                  event_type: str | None = None) -> dict:
    return {
        "id": item.id,
        "kind": item.kind,
        "tenant": item.tenant,
        "actor_id": item.actor_id,
        "actor_type": item.actor_type,
        "title": item.title,
        "description": item.description,
        "categories": list(item.categories),
        "skills": list(item.skills),
        "requirements": list(item.requirements),
        "engagement": item.engagement,
        "location": _public_location(item.location.lat, item.location.lon,
                                     actor_type=item.actor_type),
        "place_name": item.place_name,
        "radius_km": item.radius_km,
        "remote": item.remote,
        "capacity": item.capacity,
        "capacity_left": item.capacity_left,
        "visibility": item.visibility,
        "visible_to": item_visible_to(tenant=item.tenant, visibility=item.visibility,
                                      neighbours=neighbours),
        "languages": list(item.languages),
        "accessible": item.accessible,
        **schedule_facets(item.schedule),
        "status": item_status(item, event_type),
        "created_at": _iso(item.created_at),
        "updated_at": _iso(item.updated_at),
        "expires_at": _iso(item.expires_at),
        "version": item.version,
    }


def actor_document(actor: ActorData, *, changed_at: datetime | None) -> dict:
    """The public face of an actor: never the e-mail address or the owning accounts."""
    return {
        "id": actor.id,
        "kind": "actor",
        "tenant": actor.tenant,
        "actor_type": actor.type,
        "title": actor.name,
        "description": "",
        "location": _public_location(actor.location.lat, actor.location.lon,
                                     actor_type=actor.type),
        "place_name": actor.place_name,
        "locale": actor.locale,
        "visible_to": actor_visible_to(tenant=actor.tenant, actor_type=actor.type),
        "status": SEARCHABLE_STATUS,
        "updated_at": _iso(changed_at),
        "version": actor.version,
    }


def erased_actor_document(erased: ActorErasedData, *, version: int) -> dict:
    """What stays of an erased actor: its id and version, so stale events cannot bring it back."""
    return {"id": erased.id, "kind": "actor", "tenant": erased.tenant, "status": ERASED_STATUS,
            "visible_to": [], "version": version}


def tenant_document(tenant: TenantData) -> dict:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "center": _location(tenant.center.lat, tenant.center.lon),
        "neighbours": sorted(set(tenant.neighbours) - {tenant.id}),
        "version": tenant.version,
    }


def with_neighbours(document: dict, neighbours: Iterable[str]) -> dict:
    """An item document with `visible_to` recomputed after its tenant's neighbours changed."""
    return {**document, "visible_to": item_visible_to(
        tenant=document["tenant"], visibility=document.get("visibility", "tenant"),
        neighbours=neighbours)}

"""Event payloads for the search service's tests."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from platform_common.events.models import ActorData, ItemData, TenantData


def now() -> datetime:
    return datetime.now(timezone.utc)


def tenant(tenant_id: str = "duesseldorf", *, neighbours=(), version: int = 1,
           name: str = "Düsseldorf") -> TenantData:
    return TenantData(id=tenant_id, name=name, center={"lat": 51.2277, "lon": 6.7735},
                      neighbours=list(neighbours), version=version)


def actor(actor_id: str | None = None, *, tenant_id: str = "duesseldorf",
          type_: str = "association", version: int = 1) -> ActorData:
    return ActorData(id=actor_id or f"a-{uuid.uuid4().hex[:8]}", tenant=tenant_id, type=type_,
                     name="Tafel Düsseldorf e.V.", location={"lat": 51.22, "lon": 6.77},
                     place_name="Düsseldorf", email="vorstand@tafel.example",
                     owners=["user-1"], version=version)


def item(item_id: str | None = None, *, kind: str = "need", tenant_id: str = "duesseldorf",
         actor_id: str = "a-1", version: int = 1, lat: float = 51.2277, lon: float = 6.7735,
         **overrides) -> ItemData:
    values = dict(
        id=item_id or f"{kind[0]}-{uuid.uuid4().hex[:8]}", kind=kind, tenant=tenant_id,
        actor_id=actor_id, actor_type="association", title="Hausaufgabenhilfe für Grundschüler",
        description="Wir suchen Menschen, die Kindern bei den Hausaufgaben helfen.",
        categories=["education", "children_youth"], engagement="regular",
        location={"lat": lat, "lon": lon}, place_name="Düsseldorf-Bilk", radius_km=10,
        visibility="state", created_at=now(), updated_at=now(), version=version)
    values.update(overrides)
    return ItemData(**values)

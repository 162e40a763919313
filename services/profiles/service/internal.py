"""For other services only (/internal): the export that rebuilds search's index, and the
actors of the gateway's dev personas."""
from __future__ import annotations

from services.profiles.domain import mapping
from services.profiles.domain.records import Actor
from services.profiles.ports import ExportCollection, ProfileStore


async def export_page(*, store: ProfileStore, collection: ExportCollection, after: str | None,
                      limit: int) -> dict:
    rows = await store.read.export_page(collection, after=after, limit=limit + 1)
    page = rows[:limit]
    return {"items": [mapping.snapshot(r).model_dump(mode="json") for r in page],
            "next": page[-1].id if len(rows) > limit else None}


async def internal_owned_actors(*, store: ProfileStore, subs: list[str]) -> list[dict]:
    """id, tenant, type, name and owners of the actors any of `subs` owns (indexed by owner)."""
    found: dict[str, Actor] = {}
    for sub in dict.fromkeys(subs):
        for actor in await store.read.actors_owned_by(sub):
            found[actor.id] = actor
    return [{"id": a.id, "tenant": a.tenant, "type": a.type, "name": a.name, "owners": a.owners}
            for a in found.values()]

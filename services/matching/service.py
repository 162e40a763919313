"""What the suggestions API does, as keyword-only functions over the ports."""
from __future__ import annotations

import asyncio
from typing import Any, Iterable, Literal

from pydantic import BaseModel

from platform_common.errors import Forbidden, NotFound
from platform_common.identity import Identity
from services.matching.domain.access import is_party, sees_item
from services.matching.domain.directory import (
    DirectoryActor, DirectoryItem, DirectoryTenant, entry_of, newest,
)
from services.matching.ports import Directory, MatchStore

Kind = Literal["offer", "need"]
Language = Literal["de", "en"]


def match_view(doc: dict[str, Any], lang: Language) -> dict[str, Any]:
    reasons = [{**reason, "text": reason["label"][lang]} for reason in doc.get("reasons", [])]
    return {"offer_id": doc["offer_id"], "need_id": doc["need_id"], "score": doc["score"],
            "reasons": reasons, "offer": doc["offer"], "need": doc["need"],
            "updated_at": doc["updated_at"].isoformat() if doc.get("updated_at") else None}


async def item_matches(*, store: MatchStore, directory: Directory, identity: Identity,
                       kind: Kind, item_id: str, lang: Language, limit: int) -> dict[str, Any]:
    """The current suggestions of one offer or need, best first, for the parties only.

    An item the caller may not see (as profiles decides, applied to the directory) does not
    exist for them; a new item exists once the directory consumed its event."""
    item = await directory.item(item_id)
    if item is None or item.kind != kind:
        raise NotFound.of(kind.capitalize(), item_id)
    actor = await directory.actor(item.actor_id)
    tenant = await directory.tenant(item.tenant)
    if not sees_item(identity, item, actor=actor,
                     tenant_neighbours=tenant.neighbours if tenant else ()):
        raise NotFound.of(kind.capitalize(), item_id)
    docs = await store.matches_of(kind=kind, item_id=item_id, limit=limit)
    if not is_party(identity, tenant=item.tenant, actor=actor):
        counterpart = "need" if kind == "offer" else "offer"
        actors = await asyncio.gather(*(directory.actor(doc[counterpart]["actor_id"])
                                        for doc in docs))
        docs = [doc for doc, other in zip(docs, actors)
                if is_party(identity, tenant=doc[counterpart]["tenant"], actor=other)]
        if not docs:
            raise Forbidden(f"Only the parties of a suggestion may see it; you are not a "
                            f"party of this {kind}'s suggestions.")
    return {"items": [match_view(doc, lang) for doc in docs]}


async def export_mine(*, store: MatchStore, directory: Directory,
                      identity: Identity) -> dict[str, Any]:
    """Every suggestion the matcher keeps about the caller's offers and needs (GDPR export),
    current ones and withdrawn ones, with their reasons in German. The caller's items: those
    of the actors they own (from the actor's tenant, as profiles decides), in every status."""
    items = await own_items(directory=directory, identity=identity)
    docs = await store.pairs_of(offer_ids=[i.id for i in items if i.kind == "offer"],
                                need_ids=[i.id for i in items if i.kind == "need"])
    return {"matches": [{**match_view(doc, "de"), "state": doc.get("state")} for doc in docs]}


async def own_items(*, directory: Directory, identity: Identity) -> list[DirectoryItem]:
    owned = [actor.id for actor in await directory.actors_owned_by(identity.sub)
             if actor.tenant == identity.tenant]
    return await directory.items_of_actors(owned) if owned else []


async def apply_to_directory(*, directory: Directory, payloads: Iterable[BaseModel]) -> None:
    """Keep the directory up to date with the payloads of consumed tenant, actor and item
    events (in any order, repeated ones included: only a newer version changes an entry)."""
    entries = newest([entry for entry in map(entry_of, payloads) if entry is not None])
    tenants = [e for e in entries if isinstance(e, DirectoryTenant)]
    actors = [e for e in entries if isinstance(e, DirectoryActor)]
    items = [e for e in entries if isinstance(e, DirectoryItem)]
    if tenants:
        await directory.save_tenants(tenants)
    if actors:
        await directory.save_actors(actors)
    if items:
        await directory.save_items(items)

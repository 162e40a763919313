"""What the suggestions API does, as keyword-only functions over the ports."""
from __future__ import annotations

import asyncio
from typing import Any, Literal

from platform_common.http import ApiError, forbidden, not_found
from platform_common.identity import Identity
from services.matching.adapters.match_store import MatchStore
from services.matching.adapters.profiles import ItemDirectory, ProfilesUnavailable
from services.matching.domain.access import owns_actor, sees_by_role

Kind = Literal["offer", "need"]
Language = Literal["de", "en"]


def match_view(doc: dict[str, Any], lang: Language) -> dict[str, Any]:
    reasons = [{**reason, "text": reason["label"][lang]} for reason in doc.get("reasons", [])]
    return {"offer_id": doc["offer_id"], "need_id": doc["need_id"], "score": doc["score"],
            "reasons": reasons, "offer": doc["offer"], "need": doc["need"],
            "updated_at": doc["updated_at"].isoformat() if doc.get("updated_at") else None}


async def item_matches(*, store: MatchStore, directory: ItemDirectory, identity: Identity,
                       kind: Kind, item_id: str, lang: Language, limit: int) -> dict[str, Any]:
    """The current suggestions of one offer or need, best first, for the parties only."""
    try:
        item = await directory.visible_item(kind=kind, item_id=item_id, identity=identity)
        if item is None:
            raise not_found(kind.capitalize(), item_id)
        docs = await store.matches_of(kind=kind, item_id=item_id, limit=limit)
        if not await _may_see(directory, identity, tenant=item["tenant"], actor_id=item["actor_id"]):
            counterpart = "need" if kind == "offer" else "offer"
            allowed = await asyncio.gather(*(
                _may_see(directory, identity, tenant=doc[counterpart]["tenant"],
                         actor_id=doc[counterpart]["actor_id"]) for doc in docs))
            docs = [doc for doc, ok in zip(docs, allowed) if ok]
            if not docs:
                raise forbidden(f"Only the parties of a suggestion may see it; you are not a "
                                f"party of this {kind}'s suggestions.")
    except ProfilesUnavailable as exc:
        raise ApiError(503, "upstream_unavailable",
                       "The profiles service does not answer; try again shortly.") from exc
    return {"items": [match_view(doc, lang) for doc in docs]}


async def export_mine(*, store: MatchStore, directory: ItemDirectory,
                      identity: Identity) -> dict[str, Any]:
    """Every suggestion the matcher keeps about the caller's offers and needs (GDPR export),
    current ones and withdrawn ones, with their reasons in German."""
    try:
        items = await directory.own_items(identity=identity)
    except ProfilesUnavailable as exc:
        raise ApiError(503, "upstream_unavailable",
                       "The profiles service does not answer; try again shortly.") from exc
    docs = await store.pairs_of(offer_ids=[i["id"] for i in items if i["kind"] == "offer"],
                                need_ids=[i["id"] for i in items if i["kind"] == "need"])
    return {"matches": [{**match_view(doc, "de"), "state": doc.get("state")} for doc in docs]}


async def _may_see(directory: ItemDirectory, identity: Identity, *, tenant: str,
                   actor_id: str) -> bool:
    if sees_by_role(identity, tenant=tenant):
        return True
    actor = await directory.actor(actor_id)
    if actor is None:
        return False
    return owns_actor(identity, owners=actor.get("owners", []), actor_tenant=actor.get("tenant"))

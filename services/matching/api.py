"""HTTP routes of the suggestions API (the gateway maps /api/v1/<path> to <path>)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from platform_common.http import answers, current_process
from platform_common.http.auth import CurrentIdentity
from services.matching import service
from services.matching.bootstrap import MatchingApi
from services.matching.responses import MatchingExport, MatchList
from services.matching.service import Kind, Language

Matching = Annotated[MatchingApi, Depends(current_process)]
router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=100, description="At most this many suggestions")]
Lang = Annotated[Language, Query(description="Language of the reasons' `text`")]


def _routes(kind: Kind) -> APIRouter:
    routes = APIRouter(prefix=f"/{kind}s", tags=["matches"])

    @routes.get("/{item_id}/matches", name=f"{kind}_matches",
                responses=answers(MatchList, 403, 404, 422, 503))
    async def matches(item_id: str, identity: CurrentIdentity, matching: Matching,
                      lang: Lang = "de", limit: Limit = 50):
        """The suggestions of this item, best first, each with its reasons."""
        return await service.item_matches(store=matching.store, directory=matching.directory,
                                          identity=identity, kind=kind, item_id=item_id,
                                          lang=lang, limit=limit)

    return routes


router.include_router(_routes("offer"))
router.include_router(_routes("need"))


@router.get("/me/export", tags=["me"], responses=answers(MatchingExport, 503))
async def export_me(identity: CurrentIdentity, matching: Matching):
    """The suggestions kept about the caller's offers and needs (part of `GET /me/export`)."""
    return await service.export_mine(store=matching.store, directory=matching.directory,
                                     identity=identity)

"""What the suggestions API answers, as OpenAPI states it (`responses=` of each route)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from platform_common.events.models import MatchReason


class Reason(MatchReason):
    text: str = Field(description="The label in the asked language (`lang`)")


class Side(BaseModel):
    """One side of a suggestion, as the caller may see it."""

    id: str
    actor_id: str
    tenant: str
    title: str


class MatchView(BaseModel):
    offer_id: str
    need_id: str
    score: float = Field(ge=0, le=1)
    reasons: list[Reason]
    offer: Side
    need: Side
    updated_at: datetime | None


class MatchList(BaseModel):
    items: list[MatchView] = Field(description="Best first")


class MatchingExport(BaseModel):
    matches: list[dict[str, Any]]

"""MongoDB adapter of the current suggestions (collection `suggestions` of "profiles").

One document per pair ever announced: `_id` "<offer_id>:<need_id>", `current` (found or
withdrawn) and `at`, the time of the event that set it. A write applies only over an older
`at`, so a redelivered or replayed event changes nothing (`platform_common.stores.save_newer`).
"""
from __future__ import annotations

from platform_common.stores import save_newer
from services.profiles.domain.suggestions import SuggestionChange, latest_per_pair


class MongoSuggestions:
    def __init__(self, database):
        self._suggestions = database.suggestions

    async def apply(self, changes: list[SuggestionChange]) -> None:
        await save_newer(self._suggestions, [
            (change.pair, change.at, {"offer_id": change.offer_id, "need_id": change.need_id,
                                      "current": change.current})
            for change in latest_per_pair(changes)], order_field="at")

    async def is_current(self, *, offer_id: str, need_id: str) -> bool:
        doc = await self._suggestions.find_one({"_id": f"{offer_id}:{need_id}"},
                                               projection={"current": 1})
        return bool(doc and doc.get("current"))

    async def ensure_indexes(self) -> None:
        return None  # read by `_id` only

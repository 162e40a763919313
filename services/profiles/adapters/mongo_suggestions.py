"""MongoDB adapter of the current suggestions (collection `suggestions` of "profiles").

One document per pair ever announced: `_id` "<offer_id>:<need_id>", `current` (found or
withdrawn) and `at`, the time of the event that set it. A write applies only over an older
`at` (the filter), so a redelivered or replayed event changes nothing: the upsert of a pair
whose stored event is newer fails on the `_id` and is ignored.
"""
from __future__ import annotations

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from services.profiles.domain.suggestions import SuggestionChange, latest_per_pair

DUPLICATE_KEY = 11000


class MongoSuggestions:
    def __init__(self, database):
        self._suggestions = database.suggestions

    async def apply(self, changes: list[SuggestionChange]) -> None:
        updates = [UpdateOne(
            {"_id": change.pair, "at": {"$lt": change.at}},
            {"$set": {"offer_id": change.offer_id, "need_id": change.need_id,
                      "current": change.current, "at": change.at}},
            upsert=True) for change in latest_per_pair(changes)]
        if not updates:
            return
        try:
            await self._suggestions.bulk_write(updates, ordered=False)
        except BulkWriteError as exc:  # the store holds a newer event of these pairs
            if any(error.get("code") != DUPLICATE_KEY
                   for error in exc.details.get("writeErrors", [])):
                raise

    async def is_current(self, *, offer_id: str, need_id: str) -> bool:
        doc = await self._suggestions.find_one({"_id": f"{offer_id}:{need_id}"},
                                               projection={"current": 1})
        return bool(doc and doc.get("current"))

    async def ensure_indexes(self) -> None:
        return None  # read by `_id` only

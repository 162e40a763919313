"""The contract of the search index port (services/search/ports.py: SearchIndex).

What the use cases rely on: writes are idempotent by entity version and may arrive out of
order, a closed item and the items of an erased actor stay out of the results for good,
`put_items` writes a batch as `put_item` would one by one, tenant names and analyzed words
come back, and a search the index cannot run (a cursor that does not fit the sort) is
`QueryRejected`.

It runs against Elasticsearch only (tests/integration/search/test_index_contract.py): the port
takes the Elasticsearch query the domain builds (`search_body`), so an in-memory fake would have
to re-implement the query language to keep this contract. The use-case unit tests use a
recording stub instead (tests/unit/search/test_service.py), which claims no behaviour.

A concrete subclass provides the `index` fixture (an empty index) and `settle(index)`, which
makes the latest writes visible to searches.
"""
from __future__ import annotations

import uuid

import pytest

from platform_common.events.models import ActorErasedData
from services.search import service
from services.search.domain.query import SearchParams, search_body, validate_search
from services.search.domain.visibility import viewer_scopes
from services.search.ports import QueryRejected
from tests.unit.search.factories import actor, item, now, tenant


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class SearchIndexContract:
    async def settle(self, index) -> None:
        """Make the latest writes visible to searches (an engine may refresh periodically)."""

    async def found(self, index, *, tenant_id: str, kind: str = "need") -> dict[str, str]:
        """id -> title of what an anonymous search of the tenant finds."""
        await self.settle(index)
        page = await service.search(index=index, identity=None,
                                    params=SearchParams(kind=kind, tenant=[tenant_id]))
        return {hit["id"]: hit["title"] for hit in page["items"]}

    async def test_a_published_item_is_found(self, index):
        t = unique("t")
        need = item(tenant_id=t, title="Vorlesen im Seniorenheim")
        await index.put_item(need, event_type="need.published")
        assert await self.found(index, tenant_id=t) == {need.id: "Vorlesen im Seniorenheim"}
        assert await self.found(index, tenant_id=t, kind="offer") == {}

    async def test_an_older_version_never_overwrites_a_newer_one(self, index):
        t = unique("t")
        newer = item(tenant_id=t, version=2, title="Neuer Titel")
        await index.put_item(newer, event_type="need.updated")
        await index.put_item(newer.model_copy(update={"version": 1, "title": "Alter Titel"}),
                             event_type="need.published")
        assert await self.found(index, tenant_id=t) == {newer.id: "Neuer Titel"}

    async def test_repeating_a_write_changes_nothing(self, index):
        t = unique("t")
        need = item(tenant_id=t, title="Einmal")
        for _ in range(2):
            await index.put_item(need, event_type="need.published")
        assert await self.found(index, tenant_id=t) == {need.id: "Einmal"}

    async def test_a_closed_item_stays_out_even_when_an_older_event_comes_late(self, index):
        t = unique("t")
        need = item(tenant_id=t, version=1)
        await index.put_item(need, event_type="need.published")
        await index.put_item(need.model_copy(update={"version": 2}), event_type="need.closed")
        assert await self.found(index, tenant_id=t) == {}
        await index.put_item(need, event_type="need.published")
        assert await self.found(index, tenant_id=t) == {}

    async def test_a_batch_is_written_as_one_by_one(self, index):
        t = unique("t")
        first, second = item(tenant_id=t, title="Erstes"), item(tenant_id=t, title="Zweites")
        await index.put_items([
            (first.model_copy(update={"version": 2, "title": "Erstes, neu"}), "need.updated"),
            (first, "need.published"),  # older: ignored
            (second, "need.published")])
        assert await self.found(index, tenant_id=t) == {first.id: "Erstes, neu",
                                                        second.id: "Zweites"}
        await index.put_items([])

    async def test_an_erased_actor_and_its_items_stay_out(self, index):
        t = unique("t")
        owner = actor(unique("a"), tenant_id=t)
        need = item(tenant_id=t, actor_id=owner.id)
        await index.put_actor(owner, changed_at=now())
        await index.put_item(need, event_type="need.published")
        assert owner.id in await self.found(index, tenant_id=t, kind="actor")

        await index.erase_actor(ActorErasedData(id=owner.id, tenant=t, version=owner.version,
                                                item_ids=[need.id]))
        assert await self.found(index, tenant_id=t) == {}
        assert await self.found(index, tenant_id=t, kind="actor") == {}
        # Late events about the actor and its items do not bring them back.
        await index.put_actor(owner.model_copy(update={"version": owner.version + 1}),
                              changed_at=now())
        await index.put_item(need.model_copy(update={"version": 2}), event_type="need.updated")
        later = item(tenant_id=t, actor_id=owner.id)
        await index.put_items([(later, "need.published")])
        assert await self.found(index, tenant_id=t) == {}
        assert await self.found(index, tenant_id=t, kind="actor") == {}

    async def test_tenant_names_of_known_tenants(self, index):
        t = unique("t")
        await index.put_tenant(tenant(t, name="Neuss", version=2))
        await index.put_tenant(tenant(t, name="Alter Name", version=1))  # older: ignored
        await self.settle(index)
        assert await index.tenant_names([t, unique("unknown")]) == {t: "Neuss"}
        assert await index.tenant_names([]) == {}

    async def test_analyze_gives_the_lowercase_words_of_a_text(self, index):
        words = await index.analyze("Garten Hilfe")
        assert len(words) == 2
        assert all(word == word.lower() and word for word in words)
        assert words[0].startswith("gart") and words[1].startswith("hilf")

    async def test_a_cursor_that_does_not_fit_the_sort_is_rejected(self, index):
        body = search_body(validate_search(SearchParams(kind="need")), scopes=viewer_scopes(None),
                           now=now())
        body["search_after"] = [1, "x", "one value too many"]
        with pytest.raises(QueryRejected):
            await index.search(kinds=("need",), body=body)

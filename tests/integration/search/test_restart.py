"""The search service crashes and comes back: nothing published meanwhile is lost."""
from __future__ import annotations

import pytest

from tests.integration.search.conftest import eventually, unique
from tests.unit.search.factories import item

pytestmark = pytest.mark.integration


async def test_events_published_while_search_is_down_are_indexed_after_restart(
        search, publisher, search_stack):
    t = unique("t")
    before = item(tenant_id=t, visibility="state", title="Vor dem Absturz")
    await publisher.event("need.published", before)
    await eventually(lambda: _visible(search, before.id, t), what="the need before the crash")

    search_stack.kill("search")
    try:
        during = item(tenant_id=t, visibility="state", title="Während des Ausfalls")
        await publisher.event("need.published", during)
        await publisher.event("need.updated", before.model_copy(
            update={"title": "Nach dem Neustart geändert", "version": 2}))
    finally:
        search_stack.start_service("search")

    async def caught_up():
        page = await search.page(tenant=t)
        titles = {i["id"]: i["title"] for i in page["items"]}
        return titles == {before.id: "Nach dem Neustart geändert",
                          during.id: "Während des Ausfalls"}

    await eventually(caught_up, timeout_s=30, what="the events from the outage")


async def _visible(search, item_id: str, tenant: str) -> bool:
    return item_id in await search.ids(tenant=tenant)

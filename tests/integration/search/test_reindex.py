"""Rebuilding the index from the real profiles service while the search keeps serving."""
from __future__ import annotations

import asyncio

import httpx
import pytest
from elasticsearch import NotFoundError

from services.search.adapters.mappings import COLLECTIONS
from services.search.adapters.profiles_export import ProfilesExport
from services.search.reindex import reindex
from services.search.settings import SearchSettings
from tests.integration.search.conftest import eventually, unique
from tests.support.identity import keys_as, user_headers

pytestmark = pytest.mark.integration

OPERATOR = user_headers("profiles", "search-test-operator", "land", "operator")


def need_body(actor_id: str, title: str, lat: float = 51.2277) -> dict:
    return {"actor_id": actor_id, "title": title, "description": "Für den Neubau im Quartier.",
            "categories": ["neighbourhood"], "engagement": "project",
            "location": {"lat": lat, "lon": 6.7735}, "radius_km": 10.0, "visibility": "state"}


class ChangeDuringExport:
    """The real export, but an item changes after its page was read and before it is loaded.

    So the rebuild holds a stale snapshot of it, and only the live consumer's write into the
    new index carries the change: the case that loses data when writes are not mirrored.
    """

    def __init__(self, export: ProfilesExport, change):
        self.export, self.change, self.changed = export, change, False

    def tenants(self):
        return self.export.tenants()

    def actors(self):
        return self.export.actors()

    async def _needs_changing_midway(self):
        async for page in self.export.items("need"):
            if not self.changed:
                await self.change()
                self.changed = True
            yield page

    def items(self, kind: str):
        return self._needs_changing_midway() if kind == "need" else self.export.items(kind)


async def test_reindex_swaps_aliases_keeps_serving_and_loses_no_live_change(
        services, search, elasticsearch):
    stack = services("profiles", "profiles-relay", "search")
    async with httpx.AsyncClient(base_url=stack.url("profiles"), timeout=15) as profiles:
        t = unique("t")
        response = await profiles.post("/tenants", headers=OPERATOR, json={
            "id": t, "name": "Neubauhausen", "center": {"lat": 51.2277, "lon": 6.7735}})
        assert response.status_code == 201, response.text
        owner = user_headers("profiles", unique("user"), t, "member")
        response = await profiles.post("/actors", headers=owner, json={
            "type": "initiative", "name": "Quartiersinitiative", "email": "kontakt@q.example",
            "location": {"lat": 51.2277, "lon": 6.7735}})
        assert response.status_code == 201, response.text
        actor_id = response.json()["id"]
        need_ids = []
        for number in range(4):
            response = await profiles.post("/needs", headers=owner,
                                           json=need_body(actor_id, f"Umzugshilfe {number}"))
            assert response.status_code == 201, response.text
            need_ids.append(response.json()["id"])

        async def all_searchable():
            return (await search.page(tenant=t, kind="need"))["total"] == 4

        await eventually(all_searchable, timeout_s=20, what="the needs via profiles and relay")
        old_indexes = {c: sorted((await elasticsearch.indices.get_alias(name=f"engage-{c}")).body)
                       for c in COLLECTIONS}

        async def change_one_need():
            response = await profiles.patch(f"/needs/{need_ids[0]}", headers=owner,
                                            json={"title": "Umzugshilfe am Samstag", "version": 1})
            assert response.status_code == 200, response.text

            async def live_change_searchable():
                page = await search.page(tenant=t, kind="need", q="Samstag")
                return page["total"] == 1

            await eventually(live_change_searchable, timeout_s=20, what="the live change")

            async def in_old_and_new_index():
                behind = (await elasticsearch.indices.get_alias(name="engage-needs-all")).body
                versions = []
                for index in behind:
                    try:
                        versions.append((await elasticsearch.get(index=index, id=need_ids[0]))
                                        ["_version"])
                    except NotFoundError:
                        return False
                return len(versions) == 2 and versions == [2, 2]

            await eventually(in_old_and_new_index, what="the live change in both indexes")

        answers: list[tuple[int, int]] = []
        rebuilding = True

        async def keep_searching():
            while rebuilding:
                response = await search.get(tenant=t, kind="need")
                answers.append((response.status_code,
                                response.json().get("total", -1) if response.status_code == 200
                                else -1))
                await asyncio.sleep(0.05)

        poller = asyncio.create_task(keep_searching())
        export = ProfilesExport(stack.url("profiles"), keys=keys_as("search"), page_size=1000)
        lines: list[str] = []
        settings = SearchSettings(elasticsearch_url=stack.elasticsearch_url,
                                  kafka_bootstrap_servers=stack.kafka_bootstrap)
        try:
            report = await reindex(settings=settings, source=ChangeDuringExport(
                export, change_one_need), progress=lines.append)
        finally:
            rebuilding = False
            await poller
            await export.close()

        # The search answered all the time, always with every need.
        assert len(answers) > 10
        assert set(answers) == {(200, 4)}, answers
        # Progress was reported with counts and rates.
        assert any(line.startswith("  needs:") and "/s" in line for line in lines), lines
        assert report.counts["needs"].read >= 4 and report.counts["actors"].read >= 1
        # The export's stale snapshot of the changed need lost against the live write.
        assert report.counts["needs"].stale >= 1

        # The aliases point at the new indexes; the old ones are gone.
        for collection in COLLECTIONS:
            behind = sorted((await elasticsearch.indices.get_alias(
                name=f"engage-{collection}")).body)
            assert behind == [report.new_indexes[collection]]
            assert behind != old_indexes[collection]
            for index in old_indexes[collection]:
                assert not await elasticsearch.indices.exists(index=index)

        # The change made while the export ran survived the rebuild.
        page = await search.page(tenant=t, kind="need", q="Samstag")
        assert [i["id"] for i in page["items"]] == [need_ids[0]]
        actor_doc = (await elasticsearch.get(index="engage-actors", id=actor_id))["_source"]
        assert "kontakt@q.example" not in repr(actor_doc)

        # And the live consumer writes into the new indexes afterwards.
        response = await profiles.post("/needs", headers=owner,
                                       json=need_body(actor_id, "Nach dem Umbau"))
        assert response.status_code == 201, response.text

        async def new_need_searchable():
            return (await search.page(tenant=t, kind="need"))["total"] == 5

        await eventually(new_need_searchable, timeout_s=20, what="a need created after the rebuild")


def test_the_command_without_this_stacks_keys_ends_with_a_clear_message(services):
    """`make reindex` without .data/reindex.env: the real profiles refuses the dev key, and the
    command says what is missing (no traceback) before it makes any index."""
    import os
    import subprocess
    import sys

    stack = services("profiles")
    env = {**os.environ, **stack.service_env("search")}
    del env["SERVICE_SIGNING_KEY"]
    del env["SERVICE_PUBLIC_KEYS"]
    done = subprocess.run([sys.executable, "-m", "services.search.reindex",
                           "--profiles-url", stack.url("profiles")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    first, hint = done.stderr.strip().split("\n")
    assert "profiles refused search's service credential (401 invalid_token" in first
    assert "SERVICE_SIGNING_KEY is not set" in first
    assert ".data/reindex.env" in hint

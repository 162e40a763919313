"""The suggestions API's use cases over the fakes: who sees an item's suggestions (profiles'
visibility rule on the directory, then only the parties), the caller's export, and the
directory fed from event payloads."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from platform_common.errors import Forbidden, NotFound
from platform_common.events.models import (
    ActorData, ActorErasedData, ItemData, MatchData, TenantData,
)
from platform_common.identity import Identity
from services.matching import service
from services.matching.domain.directory import DirectoryActor, DirectoryItem, DirectoryTenant
from tests.unit.matching.fakes import MemoryDirectory, MemoryMatchStore, pair_doc

NOW = datetime(2026, 5, 1, tzinfo=timezone.utc)


def who(sub: str, tenant: str = "koeln", *roles: str) -> Identity:
    return Identity(sub=sub, tenant=tenant, roles=frozenset(roles or ("member",)))


@pytest.fixture
async def world():
    """Köln (neighbour: Bonn) with Anna's offer and the Tafel's need, matched; Bonn's club."""
    directory, store = MemoryDirectory(), MemoryMatchStore()
    await directory.save_tenants([DirectoryTenant("koeln", ("bonn",), 1),
                                  DirectoryTenant("bonn", ("koeln",), 1),
                                  DirectoryTenant("essen", (), 1)])
    await directory.save_actors([
        DirectoryActor("a-anna", "koeln", "person", ("anna",), 1),
        DirectoryActor("a-tafel", "koeln", "association", ("tafel",), 1),
        DirectoryActor("a-bonn", "bonn", "association", ("bonner",), 1)])
    await directory.save_items([
        DirectoryItem("o1", "offer", "koeln", "a-anna", "published", "tenant", 1),
        DirectoryItem("n1", "need", "koeln", "a-tafel", "published", "region", 1),
        DirectoryItem("n2", "need", "bonn", "a-bonn", "published", "region", 1),
        DirectoryItem("o-closed", "offer", "koeln", "a-anna", "closed", "state", 2)])
    docs = [pair_doc("o1", "n1", score=0.8, offer_actor="a-anna", need_actor="a-tafel",
                     offer_tenant="koeln", need_tenant="koeln"),
            pair_doc("o1", "n2", score=0.6, offer_actor="a-anna", need_actor="a-bonn",
                     offer_tenant="koeln", need_tenant="bonn"),
            pair_doc("o-closed", "n1", state="withdrawn", offer_actor="a-anna",
                     need_actor="a-tafel", offer_tenant="koeln", need_tenant="koeln")]
    await store.write(docs, new_keys={d["_id"] for d in docs})
    return directory, store


async def pairs(world, identity: Identity, kind: str, item_id: str) -> list[tuple[str, str]]:
    directory, store = world
    answer = await service.item_matches(store=store, directory=directory, identity=identity,
                                        kind=kind, item_id=item_id, lang="en", limit=50)
    return [(m["offer_id"], m["need_id"]) for m in answer["items"]]


async def test_the_owner_sees_every_suggestion_of_their_item_best_first(world):
    assert await pairs(world, who("anna"), "offer", "o1") == [("o1", "n1"), ("o1", "n2")]


async def test_reasons_are_given_in_the_asked_language(world):
    directory, store = world
    answer = await service.item_matches(store=store, directory=directory, identity=who("anna"),
                                        kind="offer", item_id="o1", lang="en", limit=1)
    assert answer["items"][0]["reasons"][0]["text"] == "near"


async def test_moderators_of_the_items_tenant_and_operators_see_all(world):
    for caller in (who("admin", "koeln", "tenant_admin"), who("op", "land", "operator")):
        assert await pairs(world, caller, "offer", "o1") == [("o1", "n1"), ("o1", "n2")]


async def test_a_party_of_one_suggestion_sees_only_that_one(world):
    # Bonn's club sees the Köln offer? Only "region" reaches neighbours; the offer is "tenant".
    with pytest.raises(NotFound):
        await pairs(world, who("bonner", "bonn"), "offer", "o1")
    # The Tafel (same tenant) sees the offer, and of its suggestions only its own pair.
    assert await pairs(world, who("tafel"), "offer", "o1") == [("o1", "n1")]
    # An admin of Bonn sees the Köln need ("region" reaches Bonn), is a party of no pair.
    with pytest.raises(Forbidden) as refused:
        await pairs(world, who("admin", "bonn", "tenant_admin"), "need", "n1")
    assert refused.value.code == "forbidden"


async def test_someone_who_sees_the_item_but_is_no_party_is_refused(world):
    with pytest.raises(Forbidden):
        await pairs(world, who("eve"), "offer", "o1")


async def test_unknown_items_and_the_wrong_kind_do_not_exist(world):
    with pytest.raises(NotFound) as missing:
        await pairs(world, who("anna"), "offer", "nope")
    assert missing.value.code == "not_found" and str(missing.value) == "Offer 'nope' does not exist"
    with pytest.raises(NotFound):
        await pairs(world, who("tafel"), "offer", "n1")


async def test_an_item_that_is_not_published_exists_for_its_owners_and_moderators_only(world):
    assert await pairs(world, who("anna"), "offer", "o-closed") == []  # only a withdrawn pair
    assert await pairs(world, who("admin", "koeln", "tenant_admin"), "offer", "o-closed") == []
    with pytest.raises(NotFound):
        await pairs(world, who("tafel"), "offer", "o-closed")


async def test_an_owner_acting_from_another_tenant_is_no_owner(world):
    with pytest.raises(NotFound):
        await pairs(world, who("anna", "essen"), "offer", "o1")


async def test_after_erasure_nobody_owns_the_actor(world):
    directory, _ = world
    await directory.save_actors([DirectoryActor("a-anna", "koeln", None, (), 2, erased=True)])
    with pytest.raises(NotFound):
        await pairs(world, who("anna"), "offer", "o-closed")
    with pytest.raises(Forbidden):
        await pairs(world, who("anna"), "offer", "o1")


async def test_the_export_holds_every_pair_of_the_callers_items_with_its_state(world):
    directory, store = world
    export = await service.export_mine(store=store, directory=directory, identity=who("anna"))
    assert [(m["offer_id"], m["need_id"], m["state"]) for m in export["matches"]] == [
        ("o-closed", "n1", "withdrawn"), ("o1", "n1", "found"), ("o1", "n2", "found")]
    assert export["matches"][0]["reasons"][0]["text"] == "nah"
    nothing = await service.export_mine(store=store, directory=directory,
                                        identity=who("anna", "bonn"))
    assert nothing == {"matches": []}


def item_data(item_id: str, version: int, status: str = "published") -> ItemData:
    return ItemData(id=item_id, kind="need", tenant="koeln", actor_id="a-x", actor_type="person",
                    title="t", categories=["sport"], engagement="regular",
                    location={"lat": 50.9, "lon": 6.9}, radius_km=5, status=status,
                    visibility="state", created_at=NOW, updated_at=NOW, version=version)


async def test_the_directory_keeps_the_newest_of_each_entry_from_event_payloads():
    directory = MemoryDirectory()
    await service.apply_to_directory(directory=directory, payloads=[
        TenantData(id="koeln", name="Köln", center={"lat": 50.9, "lon": 6.9},
                   neighbours=["bonn"], version=1),
        ActorData(id="a-x", tenant="koeln", type="person", name="X",
                  location={"lat": 50.9, "lon": 6.9}, owners=["x"], version=1),
        item_data("n9", 2, "paused"), item_data("n9", 1),
        MatchData(offer={"id": "o", "actor_id": "a", "tenant": "t", "title": ""},
                  need={"id": "n", "actor_id": "a", "tenant": "t", "title": ""}, score=0.5)])
    assert await directory.tenant("koeln") == DirectoryTenant("koeln", ("bonn",), 1)
    assert await directory.actor("a-x") == DirectoryActor("a-x", "koeln", "person", ("x",), 1)
    assert await directory.item("n9") == DirectoryItem("n9", "need", "koeln", "a-x", "paused",
                                                       "state", 2)
    await service.apply_to_directory(directory=directory, payloads=[
        item_data("n9", 1), ActorErasedData(id="a-x", tenant="koeln", item_ids=["n9"], version=2)])
    assert (await directory.item("n9")).version == 2
    erased = await directory.actor("a-x")
    assert erased.erased and erased.owners == () and erased.type == "person"

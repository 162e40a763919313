"""Moderation use cases: hide, unhide and the moderation list, scoped by tenant."""
from __future__ import annotations

import pytest

from services.profiles import service
from platform_common.errors import Conflict, Forbidden, NotFound
from tests.unit.profiles.factories import NOW, item_request, who
from tests.unit.profiles.memory_store import MemoryStore
from tests.unit.profiles.test_service import make_actor, make_tenant

ADMIN = who("admin", "coesfeld", "tenant_admin")
OPERATOR = who("op", "land", "operator")


@pytest.fixture
async def world():
    store = MemoryStore()
    await make_tenant(store, "coesfeld")
    await make_tenant(store, "koeln")
    owner = who("anna", "coesfeld")
    actor = await make_actor(store, owner)
    items = [await service.create_item(store=store, identity=owner, kind=kind, now=NOW,
                                       request=item_request(actor_id=actor.id))
             for kind in ("offer", "need", "offer")]
    stranger = who("bert", "koeln")
    other = await make_actor(store, stranger)
    foreign = await service.create_item(store=store, identity=stranger, kind="offer", now=NOW,
                                        request=item_request(actor_id=other.id))
    return store, owner, items, foreign


async def test_unhide_publishes_again_and_clears_the_reason(world):
    store, owner, (offer, *_), _ = world
    hidden = await service.hide_item(store=store, identity=ADMIN, kind="offer", item_id=offer.id,
                                     reason="Werbung", now=NOW)
    assert store.events[-1].type == "offer.closed"
    assert store.events[-1].data["hidden_reason"] == "Werbung"
    seen = await service.get_item(store=store, identity=owner, kind="offer", item_id=offer.id)
    assert seen.status == "hidden" and seen.hidden_reason == "Werbung"
    with pytest.raises(NotFound):
        await service.get_item(store=store, identity=who("x", "coesfeld"), kind="offer",
                               item_id=offer.id)
    with pytest.raises(Forbidden):
        await service.unhide_item(store=store, identity=owner, kind="offer", item_id=offer.id,
                                  now=NOW)
    back = await service.unhide_item(store=store, identity=ADMIN, kind="offer",
                                     item_id=offer.id, now=NOW)
    assert back.status == "published" and back.hidden_reason is None
    assert back.version == hidden.version + 1
    assert store.events[-1].type == "offer.published" and store.events[-1].version == 2
    again = await service.unhide_item(store=store, identity=ADMIN, kind="offer",
                                      item_id=offer.id, now=NOW)
    assert again.version == back.version  # nothing to do
    await service.close_item(store=store, identity=owner, kind="offer", item_id=offer.id,
                             expected_version=None, now=NOW)
    with pytest.raises(Conflict):
        await service.unhide_item(store=store, identity=ADMIN, kind="offer", item_id=offer.id,
                                  now=NOW)


async def test_moderation_list_is_scoped_to_the_tenant(world):
    store, _owner, (offer, need, offer2), foreign = world
    for kind, one in (("offer", offer), ("need", need)):
        await service.hide_item(store=store, identity=ADMIN, kind=kind, item_id=one.id,
                                reason="x", now=NOW)
    await service.hide_item(store=store, identity=OPERATOR, kind="offer", item_id=foreign.id,
                            reason="y", now=NOW)

    async def listed(identity, **params):
        query = {"status": "hidden", "kind": None, "tenant": None, "after": None, "limit": 50,
                 **params}
        found, cursor = await service.moderation_items(store=store, identity=identity, **query)
        return [i.id for i in found], cursor

    assert (await listed(ADMIN))[0] == sorted([offer.id, need.id])
    assert (await listed(ADMIN, kind="offer"))[0] == [offer.id]
    assert (await listed(ADMIN, status="published"))[0] == [offer2.id]
    assert (await listed(OPERATOR))[0] == sorted([offer.id, need.id, foreign.id])
    assert (await listed(OPERATOR, tenant="koeln"))[0] == [foreign.id]
    first, cursor = await listed(ADMIN, limit=1)
    assert cursor == first[0]
    rest, end = await listed(ADMIN, limit=1, after=cursor)
    assert rest == sorted([offer.id, need.id])[1:] and end is None
    with pytest.raises(Forbidden):
        await listed(ADMIN, tenant="koeln")
    with pytest.raises(Forbidden):
        await listed(who("anna", "coesfeld"))

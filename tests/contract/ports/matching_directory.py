"""The contract of matching's directory port (services/matching/ports.py: Directory).

What the suggestions API relies on: tenants, actors and items come back as saved; a write is
idempotent and keeps the newest version (events arrive at least once and, across topics, in
any order), an erased actor has no owners and keeps its tenant (and its type), and the
caller's own items are those of the actors they own, in every status.

A concrete subclass provides the `directory` fixture: an empty directory.
"""
from __future__ import annotations

import uuid

from services.matching.domain.directory import DirectoryActor, DirectoryItem, DirectoryTenant


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def an_item(actor_id: str, *, version: int = 1, status: str = "published",
            kind: str = "offer", item_id: str | None = None) -> DirectoryItem:
    return DirectoryItem(id=item_id or unique(kind), kind=kind, tenant="koeln", actor_id=actor_id,
                         status=status, visibility="region", version=version)


def an_actor(*owners: str, version: int = 1, actor_id: str | None = None,
             tenant: str = "koeln") -> DirectoryActor:
    return DirectoryActor(id=actor_id or unique("actor"), tenant=tenant, type="association",
                          owners=tuple(owners), version=version)


class DirectoryContract:
    async def test_saved_entries_come_back(self, directory):
        tenant = DirectoryTenant(id=unique("t"), neighbours=("bonn", "duesseldorf"), version=1)
        actor = an_actor("anna", "ben")
        item = an_item(actor.id)
        await directory.save_tenants([tenant])
        await directory.save_actors([actor])
        await directory.save_items([item])
        assert await directory.tenant(tenant.id) == tenant
        assert await directory.actor(actor.id) == actor
        assert await directory.item(item.id) == item

    async def test_unknown_entries_are_none(self, directory):
        assert await directory.tenant(unique("t")) is None
        assert await directory.actor(unique("a")) is None
        assert await directory.item(unique("i")) is None

    async def test_an_older_or_equal_version_changes_nothing(self, directory):
        item = an_item(unique("actor"), version=2, status="closed")
        await directory.save_items([item])
        await directory.save_items([an_item(item.actor_id, item_id=item.id, version=1)])
        await directory.save_items([an_item(item.actor_id, item_id=item.id, version=2,
                                            status="hidden")])
        assert await directory.item(item.id) == item
        tenant = DirectoryTenant(id=unique("t"), neighbours=("bonn",), version=3)
        await directory.save_tenants([tenant])
        await directory.save_tenants([DirectoryTenant(id=tenant.id, neighbours=(), version=2)])
        assert await directory.tenant(tenant.id) == tenant

    async def test_a_newer_version_replaces_the_entry(self, directory):
        actor = an_actor("anna")
        await directory.save_actors([actor])
        newer = an_actor("anna", "ben", actor_id=actor.id, version=2)
        await directory.save_actors([newer])
        assert await directory.actor(actor.id) == newer

    async def test_one_write_with_several_versions_of_an_entry_keeps_the_newest(self, directory):
        item_id, actor_id = unique("offer"), unique("actor")
        await directory.save_items([an_item(actor_id, item_id=item_id, version=3, status="paused"),
                                    an_item(actor_id, item_id=item_id, version=1),
                                    an_item(actor_id, item_id=item_id, version=2)])
        assert (await directory.item(item_id)).version == 3
        assert (await directory.item(item_id)).status == "paused"

    async def test_an_erased_actor_has_no_owners_and_an_older_event_does_not_revive_it(
            self, directory):
        sub = unique("sub")
        actor = an_actor(sub, version=3)
        await directory.save_actors([actor])
        erased = DirectoryActor(id=actor.id, tenant=actor.tenant, type=None, owners=(),
                                version=4, erased=True)
        await directory.save_actors([erased])
        await directory.save_actors([an_actor(sub, actor_id=actor.id, version=3)])
        stored = await directory.actor(actor.id)
        assert stored.owners == () and stored.erased and stored.tenant == actor.tenant
        assert stored.type == "association"  # the erasure names no type; the known one stays
        assert await directory.actors_owned_by(sub) == []

    async def test_an_erasure_heard_first_is_kept(self, directory):
        actor_id = unique("actor")
        await directory.save_actors([DirectoryActor(id=actor_id, tenant="koeln", type=None,
                                                    owners=(), version=2, erased=True)])
        await directory.save_actors([an_actor("anna", actor_id=actor_id, version=1)])
        stored = await directory.actor(actor_id)
        assert stored.erased and stored.owners == () and stored.type is None

    async def test_the_actors_of_an_owner_and_their_items_in_every_status(self, directory):
        sub = unique("sub")
        mine = [an_actor(sub, "other"), an_actor(sub, tenant="bonn")]
        theirs = an_actor(unique("sub"))
        await directory.save_actors([*mine, theirs])
        assert [a.id for a in await directory.actors_owned_by(sub)] == sorted(a.id for a in mine)
        items = [an_item(mine[0].id, status=status, kind=kind)
                 for status, kind in (("published", "offer"), ("closed", "need"),
                                      ("hidden", "offer"), ("paused", "need"))]
        await directory.save_items([*items, an_item(theirs.id)])
        assert await directory.items_of_actors([mine[0].id, mine[1].id]) == sorted(
            items, key=lambda i: i.id)
        assert await directory.items_of_actors([]) == []

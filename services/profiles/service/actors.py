"""Actors (persons and organisations): registering, changing, members, closing, and the
profile as each caller sees it."""
from __future__ import annotations

from datetime import datetime

from platform_common.errors import Conflict, Forbidden, NotFound, Unauthorized, invalid
from platform_common.identity import Identity
from services.profiles.domain import mapping, records, rules
from services.profiles.domain.records import Actor
from services.profiles.domain.requests import ActorCreate, ActorPatch, changes_of
from services.profiles.ports import ProfileStore, Repository
from services.profiles.service.common import emit, is_contact_partner, new_id, own_actor_ids
from services.profiles.service.personal_data import erase_actor


async def register_actor(*, store: ProfileStore, identity: Identity, request: ActorCreate,
                         now: datetime) -> Actor:
    rules.check_logo(request.type, request.logo_url)

    async def work(repo: Repository) -> Actor:
        if await repo.get_tenant(identity.tenant) is None:
            raise invalid(["tenant"], f"the caller's tenant {identity.tenant!r} does not exist")
        actor = records.new_actor(request, actor_id=new_id(), tenant=identity.tenant,
                                  owner=identity.sub, now=now)
        await repo.insert_actor(actor)
        await emit(repo, "actor.registered", tenant=actor.tenant, subject=actor.id,
                    data=mapping.snapshot(actor))
        return actor

    return await store.run_in_transaction(work)


async def get_actor(*, store: ProfileStore, actor_id: str) -> Actor:
    actor = await store.read.get_actor(actor_id)
    if actor is None:
        raise NotFound(f"The actor {actor_id!r} does not exist.")
    return actor


async def _change_actor(store: ProfileStore, actor_id: str, change) -> Actor:
    """Load an actor in a transaction, apply `change(actor) -> new actor | None`, save, emit."""
    async def work(repo: Repository) -> Actor:
        actor = await repo.get_actor(actor_id)
        if actor is None:
            raise NotFound(f"The actor {actor_id!r} does not exist.")
        updated = change(actor)
        if updated is None:
            return actor
        await repo.save_actor(updated, expected_version=actor.version)
        await emit(repo, "actor.updated", tenant=updated.tenant, subject=updated.id,
                    data=mapping.snapshot(updated))
        return updated

    return await store.run_in_transaction(work)


async def update_actor(*, store: ProfileStore, identity: Identity, actor_id: str,
                       patch: ActorPatch, expected_version: int | None, now: datetime) -> Actor:
    changes = changes_of(patch)

    def change(actor: Actor) -> Actor | None:
        if not rules.is_owner(identity, actor):
            raise Forbidden("Only the actor's owners may change it.")
        rules.check_logo(actor.type, changes.get("logo_url"))
        rules.check_version(actor.version, expected_version)
        return records.patched_actor(actor, changes, now=now)

    return await _change_actor(store, actor_id, change)


async def add_member(*, store: ProfileStore, identity: Identity, actor_id: str, sub: str,
                     now: datetime) -> Actor:
    def change(actor: Actor) -> Actor | None:
        rules.require_member_manager(identity, actor)
        return records.with_owner(actor, sub, present=True, now=now)

    return await _change_actor(store, actor_id, change)


async def remove_member(*, store: ProfileStore, identity: Identity, actor_id: str, sub: str,
                        now: datetime) -> Actor:
    def change(actor: Actor) -> Actor | None:
        rules.require_member_manager(identity, actor)
        if sub not in actor.owners:
            raise NotFound(f"{sub!r} is not a member of this actor.")
        if actor.owners == [sub]:
            raise Conflict("The last owner cannot be removed.", code="last_owner")
        return records.with_owner(actor, sub, present=False, now=now)

    return await _change_actor(store, actor_id, change)


async def close_actor(*, store: ProfileStore, identity: Identity, actor_id: str,
                      now: datetime) -> dict:
    """An owner closes an organisation (or deletes their own person profile): its items close,
    its contact requests go, the actor is deleted and `actor.erased` tells the other services.

    Any owner may, no role needed: whoever may change the profile and close each of its items
    may close it all, and a person who created a Verein alone must be able to end it before
    deleting the account. Tenant admins may not: they moderate items (hide), but closing for
    good is the organisation's decision. One transaction; a repeated call answers 404.
    """
    async def work(repo: Repository) -> dict:
        actor = await repo.get_actor(actor_id)
        if actor is None:
            raise NotFound(f"The actor {actor_id!r} does not exist.")
        if not rules.is_owner(identity, actor):
            raise Forbidden("Only the actor's owners may close it.")
        return {"id": actor.id, "type": actor.type,
                "closed_items": await erase_actor(repo, actor, now=now)}

    return await store.run_in_transaction(work)


async def my_actors(*, store: ProfileStore, identity: Identity) -> list[Actor]:
    """The caller's own actors, by the owners index."""
    return [actor for actor in await store.read.actors_owned_by(identity.sub)
            if rules.is_owner(identity, actor)]


async def actor_view_for(*, store: ProfileStore, identity: Identity | None, actor_id: str) -> dict:
    """An actor's profile: owners see everything, the other party of an accepted contact
    also the e-mail (and a person's exact location), everybody else the public profile."""
    actor = await get_actor(store=store, actor_id=actor_id)
    if identity is None and actor.type == "person":
        # Organisations' profiles are public pages; a private person's only for signed-in users.
        raise Unauthorized("Sign in to see the profiles of private persons.")
    if rules.is_owner(identity, actor):
        return mapping.actor_view(actor, private=True)
    if await is_contact_partner(store.read, actor_id, await own_actor_ids(store.read, identity)):
        return mapping.counterpart_actor_view(actor)
    return mapping.actor_view(actor, private=False)

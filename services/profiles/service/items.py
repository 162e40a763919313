"""Offers and needs: publishing, changing, the lifecycle (close, pause, hide, expire),
lists and moderation, and the views with a person's place coarsened."""
from __future__ import annotations

from datetime import datetime

from platform_common.errors import Conflict, Forbidden, NotFound, invalid
from platform_common.events.models import ItemKind
from platform_common.identity import Identity
from platform_common.privacy import is_private
from services.profiles.domain import mapping, records, rules
from services.profiles.domain.records import Item
from services.profiles.domain.requests import ItemCreate, ItemPatch, changes_of
from services.profiles.ports import ProfileStore, Repository
from services.profiles.service.common import (
    emit, is_contact_partner, neighbours_of, new_id, own_actor_ids,
)

EXPIRY_BATCH = 200


async def _load_item(repo: Repository, kind: ItemKind, item_id: str) -> Item:
    item = await repo.get_item(item_id)
    if item is None or item.kind != kind:
        raise NotFound(f"The {kind} {item_id!r} does not exist.")
    return item


async def _item_access(repo: Repository, identity: Identity | None,
                       item: Item) -> tuple[bool, bool]:
    """(caller owns the item, caller may see it)."""
    owner = rules.is_owner(identity, await repo.get_actor(item.actor_id))
    visible = rules.can_see_item(identity, item, owner=owner,
                                 item_tenant_neighbours=await neighbours_of(repo, item.tenant))
    return owner, visible


async def create_item(*, store: ProfileStore, identity: Identity, kind: ItemKind,
                      request: ItemCreate, now: datetime) -> Item:
    async def work(repo: Repository) -> Item:
        actor = await repo.get_actor(request.actor_id)
        if actor is None:
            raise invalid(["actor_id"], f"unknown actor {request.actor_id!r}")
        if not rules.is_owner(identity, actor):
            raise Forbidden("Only an owner of the actor may publish for it.")
        tenant = await repo.get_tenant(actor.tenant)
        if tenant is not None:
            rules.check_categories_allowed(request.categories, tenant)
        rules.check_not_past(request.schedule.model_dump(), now=now)
        item = records.new_item(request, item_id=new_id(), kind=kind, actor=actor, now=now)
        await repo.insert_item(item)
        await emit(repo, f"{kind}.published", tenant=item.tenant, subject=item.id,
                    data=mapping.snapshot(item))
        return item

    return await store.run_in_transaction(work)


async def get_item(*, store: ProfileStore, identity: Identity | None, kind: ItemKind,
                   item_id: str) -> Item:
    item = await _load_item(store.read, kind, item_id)
    _owner, visible = await _item_access(store.read, identity, item)
    if not visible:
        raise NotFound(f"The {kind} {item_id!r} does not exist.")
    return item


async def update_item(*, store: ProfileStore, identity: Identity, kind: ItemKind, item_id: str,
                      patch: ItemPatch, expected_version: int | None, now: datetime) -> Item:
    changes = changes_of(patch)

    async def work(repo: Repository) -> Item:
        item = await _load_item(repo, kind, item_id)
        owner, visible = await _item_access(repo, identity, item)
        if not owner:
            raise rules.denied(visible, f"Only the owners of this {kind} may change it.")
        rules.check_version(item.version, expected_version)
        rules.check_open(item)
        if "categories" in changes:
            tenant = await repo.get_tenant(item.tenant)
            if tenant is not None:
                rules.check_categories_allowed(changes["categories"], tenant)
        if "schedule" in changes:
            rules.check_not_past(changes["schedule"], now=now)
        updated = records.patched_item(item, changes, now=now)
        if updated is None:
            return item
        await repo.save_item(updated, expected_version=item.version)
        await emit(repo, f"{kind}.updated", tenant=updated.tenant, subject=updated.id,
                    data=mapping.snapshot(updated))
        return updated

    return await store.run_in_transaction(work)


async def _set_status(repo: Repository, item: Item, status: str, *, now: datetime,
                      reason: str | None = None) -> Item:
    updated = records.with_status(item, status, now=now, reason=reason)
    await repo.save_item(updated, expected_version=item.version)
    # One event type for every way an item stops being open; its status tells which.
    await emit(repo, f"{item.kind}.closed", tenant=updated.tenant, subject=updated.id,
                data=mapping.snapshot(updated))
    return updated


async def close_item(*, store: ProfileStore, identity: Identity, kind: ItemKind, item_id: str,
                     expected_version: int | None, now: datetime) -> Item:
    async def work(repo: Repository) -> Item:
        item = await _load_item(repo, kind, item_id)
        owner, visible = await _item_access(repo, identity, item)
        if not (owner or rules.can_moderate(identity, item.tenant)):
            raise rules.denied(visible, f"Only the owners or a tenant admin may close this {kind}.")
        if expected_version is not None:
            rules.check_version(item.version, expected_version)
        if item.status == "closed":
            return item
        return await _set_status(repo, item, "closed", now=now)

    return await store.run_in_transaction(work)


async def pause_item(*, store: ProfileStore, identity: Identity, kind: ItemKind, item_id: str,
                     now: datetime) -> Item:
    """The owners take the item out of search and matching for a while."""
    async def work(repo: Repository) -> Item:
        item = await _load_item(repo, kind, item_id)
        owner, visible = await _item_access(repo, identity, item)
        if not owner:
            raise rules.denied(visible, f"Only the owners of this {kind} may pause it.")
        if item.status == "paused":
            return item
        return await _set_status(repo, item, "paused", now=now)

    return await store.run_in_transaction(work)


async def resume_item(*, store: ProfileStore, identity: Identity, kind: ItemKind, item_id: str,
                      now: datetime) -> Item:
    """The owners publish a paused item again, or an ongoing one that lapsed (it re-enters
    search and matching)."""
    async def work(repo: Repository) -> Item:
        item = await _load_item(repo, kind, item_id)
        owner, visible = await _item_access(repo, identity, item)
        if not owner:
            raise rules.denied(visible, f"Only the owners of this {kind} may resume it.")
        if item.status == "published":
            return item
        # Resuming renews an ongoing item, also one that lapsed (expired) because nobody changed
        # it for ONGOING_LIFETIME; one whose last one-off date passed stays ended.
        lapsed = item.status == "expired" and rules.is_ongoing(item.schedule.model_dump())
        if not lapsed:
            rules.check_transition(item.status, "published")
        updated = records.renewed(records.with_status(item, "published", now=now, lapsed=lapsed),
                                  now=now)
        if updated.expires_at is not None and updated.expires_at <= now:
            raise Conflict("The end date of this item has passed: change it before you resume it.",
                           {"expires_at": updated.expires_at.isoformat()}, code="item_ended")
        await repo.save_item(updated, expected_version=item.version)
        await emit(repo, f"{kind}.published", tenant=updated.tenant, subject=updated.id,
                    data=mapping.snapshot(updated))
        return updated

    return await store.run_in_transaction(work)


async def hide_item(*, store: ProfileStore, identity: Identity, kind: ItemKind, item_id: str,
                    reason: str, now: datetime) -> Item:
    async def work(repo: Repository) -> Item:
        item = await _load_item(repo, kind, item_id)
        if not rules.can_moderate(identity, item.tenant):
            _owner, visible = await _item_access(repo, identity, item)
            raise rules.denied(visible, "Only a tenant admin of the item's tenant or an operator "
                                        "may hide it.")
        if item.status == "hidden":
            return item
        return await _set_status(repo, item, "hidden", now=now, reason=reason)

    return await store.run_in_transaction(work)


async def unhide_item(*, store: ProfileStore, identity: Identity, kind: ItemKind, item_id: str,
                      now: datetime) -> Item:
    """A moderator publishes a hidden item again (it re-enters search and matching)."""
    async def work(repo: Repository) -> Item:
        item = await _load_item(repo, kind, item_id)
        if not rules.can_moderate(identity, item.tenant):
            _owner, visible = await _item_access(repo, identity, item)
            raise rules.denied(visible, "Only a tenant admin of the item's tenant or an operator "
                                        "may unhide it.")
        if item.status == "published":
            return item
        rules.check_transition(item.status, "published")
        updated = records.with_status(item, "published", now=now)
        await repo.save_item(updated, expected_version=item.version)
        await emit(repo, f"{kind}.published", tenant=updated.tenant, subject=updated.id,
                    data=mapping.snapshot(updated))
        return updated

    return await store.run_in_transaction(work)


async def moderation_items(*, store: ProfileStore, identity: Identity, status: str,
                           kind: ItemKind | None, tenant: str | None, after: str | None,
                           limit: int) -> tuple[list[Item], str | None]:
    """Items of one status for moderators, by id: a tenant admin sees their own tenant, an
    operator every tenant (or the one asked for)."""
    if tenant is None and not identity.is_operator:
        tenant = identity.tenant
    if tenant is not None:
        rules.require_tenant_admin(identity, tenant)
    elif not identity.is_operator:
        raise Forbidden("Only tenant admins and operators moderate.")
    found: list[Item] = []
    for one_kind in ([kind] if kind else ["need", "offer"]):
        found += await store.read.list_items(kind=one_kind, tenant=tenant, statuses=[status],
                                             after=after, limit=limit + 1)
    found.sort(key=lambda item: item.id)
    next_after = found[limit - 1].id if len(found) > limit else None
    return found[:limit], next_after


async def list_items(*, store: ProfileStore, identity: Identity | None, kind: ItemKind,
                     actor_id: str | None, tenant: str | None, status: str | None,
                     after: str | None, limit: int) -> tuple[list[Item], str | None]:
    """Items the caller may see: of one actor, of one tenant, or else the caller's own."""
    repo = store.read
    wanted = [status] if status else list(rules.ALL_STATUSES)
    query: dict = {}
    if actor_id is not None:
        actor = await repo.get_actor(actor_id)
        if actor is None:
            raise NotFound(f"The actor {actor_id!r} does not exist.")
        query["actor_ids"] = [actor_id]
        privileged = rules.is_owner(identity, actor) or rules.can_moderate(identity, actor.tenant)
        owning_tenant = actor.tenant
    elif tenant is not None:
        query["tenant"] = tenant
        privileged = rules.can_moderate(identity, tenant)
        owning_tenant = tenant
    else:
        if identity is None:
            return [], None
        own = [a.id for a in await repo.actors_owned_by(identity.sub) if rules.is_owner(identity, a)]
        query["actor_ids"] = own
        privileged, owning_tenant = True, identity.tenant
    if not privileged:
        if "published" not in wanted:
            return [], None
        wanted = ["published"]
        query["visibilities"] = sorted(rules.allowed_visibilities(
            identity.tenant if identity else None, owning_tenant,
            await neighbours_of(repo, owning_tenant)))
    items = await repo.list_items(kind=kind, statuses=wanted, after=after, limit=limit + 1, **query)
    next_after = items[limit - 1].id if len(items) > limit else None
    return items[:limit], next_after


async def expire_due_items(*, store: ProfileStore, now: datetime) -> int:
    """Expire published items whose end has passed (rules.expiry_of: the last date, or the
    lifetime of an ongoing item); returns how many."""
    expired = 0
    while True:
        due = await store.read.items_due_to_expire(now=now, limit=EXPIRY_BATCH)
        for candidate in due:
            async def work(repo: Repository, item_id: str = candidate.id) -> bool:
                item = await repo.get_item(item_id)
                ends = None if item is None else rules.due_at(item)
                if ends is None or ends > now or item.status != "published":
                    return False  # changed meanwhile
                await _set_status(repo, item, "expired", now=now)
                return True

            expired += await store.run_in_transaction(work)
        if len(due) < EXPIRY_BATCH:
            return expired


async def item_views(*, store: ProfileStore, identity: Identity | None,
                     items: list[Item]) -> list[dict]:
    """Items as the caller sees them: the exact place of a person's item only for its owners
    and the partners of an accepted contact request; everybody else (moderators too) sees the
    coarse point (platform_common.privacy)."""
    repo = store.read
    own = await own_actor_ids(repo, identity)
    exact: dict[str, bool] = {}
    for item in items:
        if is_private(item.actor_type) and item.actor_id not in exact:
            exact[item.actor_id] = item.actor_id in own or await is_contact_partner(
                repo, item.actor_id, own)
    return [mapping.item_view(item, exact=exact.get(item.actor_id, False)) for item in items]

"""What the profiles service does, one keyword-only function per use case.

Every change runs in one transaction together with the outbox record of its event; the relay
publishes it later. Functions receive the store (a port) and the caller's identity; they
raise domain errors that the app maps to HTTP responses.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from platform_common.events import event_type, make_event, utcnow
from platform_common.events.models import ActorErasedData, ItemKind, MatchData
from platform_common.identity import Identity
from platform_common.observability.tracing import current_traceparent
from platform_common.privacy import is_private
from services.profiles.domain import branding, contacts, records, rules
from services.profiles.domain import stats as stats_domain
from services.profiles.domain.contacts import ContactCreate, ContactRole, ContactStatus
from services.profiles.domain.errors import Conflict, Forbidden, NotFound, Unauthorized, invalid
from services.profiles.domain.records import Actor, Item, Tenant
from services.profiles.domain.requests import (
    ActorCreate, ActorPatch, ItemCreate, ItemPatch, TenantCreate, TenantPatch, changes_of,
)
from services.profiles.ports import (
    ExportCollection, MatchChecker, ProfileStore, Repository, StatsStore,
)

SOURCE = "profiles"
EXPIRY_BATCH = 200


def now_ms() -> datetime:
    """The current UTC time at MongoDB's millisecond precision."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_id() -> str:
    return str(uuid.uuid4())


async def _emit(repo: Repository, name: str, *, tenant: str, subject: str, data) -> None:
    envelope = make_event(name, tenant=tenant, subject=subject, source=SOURCE, data=data)
    envelope = envelope.model_copy(update={"traceparent": current_traceparent()})
    await repo.add_event(envelope, topic=event_type(name).topic, key=subject)


# ---- tenants ---------------------------------------------------------------------------------
async def _apply_neighbour_changes(repo: Repository, tenant_id: str, *, added: set[str],
                                   removed: set[str], now: datetime) -> None:
    """Neighbourhood is symmetric: mirror each change on the other tenant, with its event."""
    for other_id, present in sorted([(t, True) for t in added] + [(t, False) for t in removed]):
        other = await repo.get_tenant(other_id)
        if other is None:
            continue
        updated = records.with_neighbour(other, tenant_id, present=present, now=now)
        if updated is not None:
            await repo.save_tenant(updated, expected_version=other.version)
            await _emit(repo, "tenant.updated", tenant=updated.id, subject=updated.id,
                        data=records.snapshot(updated))


async def _check_neighbours_exist(repo: Repository, tenant_id: str, neighbours: list[str]) -> None:
    known = {n for n in neighbours if await repo.get_tenant(n) is not None}
    rules.check_neighbours(tenant_id, neighbours, known)


async def create_tenant(*, store: ProfileStore, identity: Identity, request: TenantCreate,
                        now: datetime) -> Tenant:
    rules.require_operator(identity)
    branding.check_contrast(request.branding.model_dump())

    async def work(repo: Repository) -> Tenant:
        await _check_neighbours_exist(repo, request.id, request.neighbours)
        tenant = records.new_tenant(request, now=now)
        await repo.insert_tenant(tenant)
        await _emit(repo, "tenant.created", tenant=tenant.id, subject=tenant.id,
                    data=records.snapshot(tenant))
        await _apply_neighbour_changes(repo, tenant.id, added=set(tenant.neighbours),
                                       removed=set(), now=now)
        return tenant

    return await store.run_in_transaction(work)


async def list_tenants(*, store: ProfileStore) -> list[Tenant]:
    return await store.read.list_tenants()


async def get_tenant(*, store: ProfileStore, tenant_id: str) -> Tenant:
    tenant = await store.read.get_tenant(tenant_id)
    if tenant is None:
        raise NotFound(f"The tenant {tenant_id!r} does not exist.")
    return tenant


async def update_tenant(*, store: ProfileStore, identity: Identity, tenant_id: str,
                        patch: TenantPatch, expected_version: int | None, now: datetime) -> Tenant:
    rules.require_tenant_admin(identity, tenant_id)
    changes = changes_of(patch)

    async def work(repo: Repository) -> Tenant:
        tenant = await repo.get_tenant(tenant_id)
        if tenant is None:
            raise NotFound(f"The tenant {tenant_id!r} does not exist.")
        rules.check_version(tenant.version, expected_version)
        if "branding" in changes:
            # Only the branding fields the request names change (null clears one).
            given = patch.branding.model_fields_set
            changes["branding"] = {**tenant.branding.model_dump(),
                                   **{name: changes["branding"][name] for name in given}}
            branding.check_contrast(changes["branding"], changed=given)
        if "neighbours" in changes:
            await _check_neighbours_exist(repo, tenant_id, changes["neighbours"])
        updated = records.patched_tenant(tenant, changes, now=now)
        if updated is None:
            return tenant
        await repo.save_tenant(updated, expected_version=tenant.version)
        await _emit(repo, "tenant.updated", tenant=updated.id, subject=updated.id,
                    data=records.snapshot(updated))
        before, after = set(tenant.neighbours), set(updated.neighbours)
        await _apply_neighbour_changes(repo, tenant_id, added=after - before,
                                       removed=before - after, now=now)
        return updated

    return await store.run_in_transaction(work)


# ---- actors ----------------------------------------------------------------------------------
async def register_actor(*, store: ProfileStore, identity: Identity, request: ActorCreate,
                         now: datetime) -> Actor:
    rules.check_logo(request.type, request.logo_url)

    async def work(repo: Repository) -> Actor:
        if await repo.get_tenant(identity.tenant) is None:
            raise invalid(["tenant"], f"the caller's tenant {identity.tenant!r} does not exist")
        actor = records.new_actor(request, actor_id=new_id(), tenant=identity.tenant,
                                  owner=identity.sub, now=now)
        await repo.insert_actor(actor)
        await _emit(repo, "actor.registered", tenant=actor.tenant, subject=actor.id,
                    data=records.snapshot(actor))
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
        await _emit(repo, "actor.updated", tenant=updated.tenant, subject=updated.id,
                    data=records.snapshot(updated))
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


# ---- offers and needs ------------------------------------------------------------------------
async def _neighbours_of(repo: Repository, tenant_id: str) -> list[str]:
    tenant = await repo.get_tenant(tenant_id)
    return tenant.neighbours if tenant is not None else []


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
                                 item_tenant_neighbours=await _neighbours_of(repo, item.tenant))
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
        await _emit(repo, f"{kind}.published", tenant=item.tenant, subject=item.id,
                    data=records.snapshot(item))
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
        await _emit(repo, f"{kind}.updated", tenant=updated.tenant, subject=updated.id,
                    data=records.snapshot(updated))
        return updated

    return await store.run_in_transaction(work)


async def _set_status(repo: Repository, item: Item, status: str, *, now: datetime,
                      reason: str | None = None) -> Item:
    updated = records.with_status(item, status, now=now, reason=reason)
    await repo.save_item(updated, expected_version=item.version)
    # One event type for every way an item stops being open; its status tells which.
    await _emit(repo, f"{item.kind}.closed", tenant=updated.tenant, subject=updated.id,
                data=records.snapshot(updated))
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
    """The owners publish a paused item again (it re-enters search and matching)."""
    async def work(repo: Repository) -> Item:
        item = await _load_item(repo, kind, item_id)
        owner, visible = await _item_access(repo, identity, item)
        if not owner:
            raise rules.denied(visible, f"Only the owners of this {kind} may resume it.")
        if item.status == "published":
            return item
        rules.check_transition(item.status, "published")
        if item.expires_at is not None and item.expires_at <= now:
            raise Conflict("The end date of this item has passed: change it before you resume it.",
                           {"expires_at": item.expires_at.isoformat()}, code="item_ended")
        updated = records.with_status(item, "published", now=now)
        await repo.save_item(updated, expected_version=item.version)
        await _emit(repo, f"{kind}.published", tenant=updated.tenant, subject=updated.id,
                    data=records.snapshot(updated))
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
        await _emit(repo, f"{kind}.published", tenant=updated.tenant, subject=updated.id,
                    data=records.snapshot(updated))
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
            await _neighbours_of(repo, owning_tenant)))
    items = await repo.list_items(kind=kind, statuses=wanted, after=after, limit=limit + 1, **query)
    next_after = items[limit - 1].id if len(items) > limit else None
    return items[:limit], next_after


async def expire_due_items(*, store: ProfileStore, now: datetime) -> int:
    """Expire published items whose last date has passed; returns how many."""
    expired = 0
    while True:
        due = await store.read.items_due_to_expire(now=now, limit=EXPIRY_BATCH)
        for candidate in due:
            async def work(repo: Repository, item_id: str = candidate.id) -> bool:
                item = await repo.get_item(item_id)
                if item is None or item.status != "published" or item.expires_at is None \
                        or item.expires_at > now:
                    return False  # changed meanwhile
                await _set_status(repo, item, "expired", now=now)
                return True

            expired += await store.run_in_transaction(work)
        if len(due) < EXPIRY_BATCH:
            return expired


# ---- the caller's own data (GDPR) ------------------------------------------------------------
async def export_me(*, store: ProfileStore, identity: Identity) -> dict:
    repo = store.read
    actors = await repo.actors_owned_by(identity.sub)
    actor_ids = [a.id for a in actors]
    items = await repo.list_items(kind=None, actor_ids=actor_ids) if actors else []
    own_contacts = await repo.list_contacts(actor_ids=actor_ids) if actors else []
    # Both parties as the caller sees them in the contact list: names and e-mails once accepted.
    parties = {a.id: a for a in actors}
    others = {party for c in own_contacts
              for party in (c.requester_actor_id, c.recipient_actor_id)}
    for party_id in sorted(others - set(parties)):
        parties[party_id] = await repo.get_actor(party_id)
    return {
        "sub": identity.sub, "tenant": identity.tenant, "exported_at": now_ms(),
        "actors": [rules.actor_view(a, private=True) for a in actors],
        "offers": [rules.item_view(i, exact=True) for i in items if i.kind == "offer"],
        "needs": [rules.item_view(i, exact=True) for i in items if i.kind == "need"],
        "contacts": [contacts.contact_view(c, requester=parties.get(c.requester_actor_id),
                                           recipient=parties.get(c.recipient_actor_id))
                     for c in own_contacts],
    }


def _check_no_orphaned_organisations(identity: Identity, actors: list[Actor]) -> None:
    """An organisation must keep an owner: its last owner hands it over, or closes it
    (`close_actor`), before leaving.

    Why refuse rather than close it: a Verein's profile, items and partners are the Verein's,
    not the person's; deleting one account must not close it behind the other members' backs,
    nor leave it ownerless (nobody could change or close it any more).
    """
    orphaned = [a for a in actors if rules.sole_owned_organisation(identity, a)]
    if orphaned:
        names = ", ".join(f"{a.name} ({a.id})" for a in orphaned)
        raise Conflict(
            f"You are the last owner of {names}: add another owner or close the organisation "
            "before deleting your account. Nothing was deleted.",
            [{"id": a.id, "name": a.name, "type": a.type, "tenant": a.tenant} for a in orphaned],
            code="last_owner_of_organisations")


async def erase_me(*, store: ProfileStore, identity: Identity, now: datetime) -> dict:
    """Erase every person profile only the caller owns; leave shared and organisation profiles.

    Refused (409, nothing changed) while the caller is the last owner of an organisation.
    One transaction per actor, so a repeated call finishes an interrupted erasure.
    """
    _check_no_orphaned_organisations(identity, await store.read.actors_owned_by(identity.sub))
    erased, left, closed = [], [], []
    for candidate in await store.read.actors_owned_by(identity.sub):
        async def work(repo: Repository, actor_id: str = candidate.id) -> tuple[str, list[str]]:
            actor = await repo.get_actor(actor_id)
            if actor is None or identity.sub not in actor.owners:
                return "gone", []
            if actor.type == "person" and actor.owners == [identity.sub]:
                return "erased", await _erase_actor(repo, actor, now=now)
            # The others left meanwhile: checked again in the transaction.
            _check_no_orphaned_organisations(identity, [actor])
            updated = records.with_owner(actor, identity.sub, present=False, now=now)
            await repo.save_actor(updated, expected_version=actor.version)
            await _emit(repo, "actor.updated", tenant=updated.tenant, subject=updated.id,
                        data=records.snapshot(updated))
            return "left", []

        outcome, item_ids = await store.run_in_transaction(work)
        if outcome == "erased":
            erased.append(candidate.id)
            closed.extend(item_ids)
        elif outcome == "left":
            left.append(candidate.id)
    return {"erased_actors": erased, "left_actors": left, "closed_items": closed}


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
                "closed_items": await _erase_actor(repo, actor, now=now)}

    return await store.run_in_transaction(work)


async def _erase_actor(repo: Repository, actor: Actor, *, now: datetime) -> list[str]:
    """Persons (erasure) and organisations (closing) go the same way: the items stay only as
    closed shells without text or place, because nobody owns them any more and an
    organisation's texts often name its people."""
    tenant = await repo.get_tenant(actor.tenant)
    # The place of a private person's items may be their home: keep only the town centre.
    location = tenant.center.model_dump() if tenant else {"lat": 0.0, "lon": 0.0}
    items = await repo.list_items(kind=None, actor_ids=[actor.id])
    for item in items:
        scrubbed = records.erased_item(item, location=location, now=now)
        await repo.save_item(scrubbed, expected_version=item.version)
        await _emit(repo, f"{item.kind}.closed", tenant=item.tenant, subject=item.id,
                    data=records.snapshot(scrubbed))
    # Their contact requests (messages, who talked to whom) go with them; the other side's
    # notifications service forgets them on `actor.erased`.
    await repo.delete_contacts_of(actor.id)
    await repo.delete_actor(actor.id)
    await _emit(repo, "actor.erased", tenant=actor.tenant, subject=actor.id,
                data=ActorErasedData(id=actor.id, tenant=actor.tenant,
                                     item_ids=[i.id for i in items], version=actor.version + 1))
    return [i.id for i in items]


# ---- contact requests ------------------------------------------------------------------------
async def _pair_item(repo: Repository, identity: Identity, kind: ItemKind,
                     item_id: str) -> tuple[Item, Actor]:
    """An item named in a contact request with its actor; unknown unless the caller sees it."""
    unknown = invalid([f"{kind}_id"], f"unknown {kind} {item_id!r}")
    item = await repo.get_item(item_id)
    if item is None or item.kind != kind:
        raise unknown
    actor = await repo.get_actor(item.actor_id)
    if actor is None or not rules.can_see_item(
            identity, item, owner=rules.is_owner(identity, actor),
            item_tenant_neighbours=await _neighbours_of(repo, item.tenant)):
        raise unknown
    return item, actor


async def _contact_parties(repo: Repository, identity: Identity,
                           request: ContactCreate) -> tuple[Actor, Actor]:
    """(requester, recipient) of a valid new request; raises why it is not valid."""
    offer, offer_actor = await _pair_item(repo, identity, "offer", request.offer_id)
    need, need_actor = await _pair_item(repo, identity, "need", request.need_id)
    side = contacts.requester_side(identity, offer_actor=offer_actor, need_actor=need_actor)
    contacts.check_pair_open(offer, need)
    offer_neighbours = await _neighbours_of(repo, offer.tenant)
    need_neighbours = await _neighbours_of(repo, need.tenant)
    if not contacts.mutually_visible(offer, need, offer_tenant_neighbours=offer_neighbours,
                                     need_tenant_neighbours=need_neighbours):
        raise invalid([f"{side}_id"], f"your {side} and the other side's item are not visible "
                                      "in each other's municipalities")
    contacts.check_no_active_request(
        await repo.active_contact_for_pair(request.offer_id, request.need_id))
    return (offer_actor, need_actor) if side == "offer" else (need_actor, offer_actor)


async def request_contact(*, store: ProfileStore, identity: Identity, request: ContactCreate,
                          matches: MatchChecker | None, now: datetime) -> dict:
    """Ask the other side of an offer/need pair for contact (they are told by the event)."""
    # Validate before asking matching, and never hold a transaction open during that call.
    await _contact_parties(store.read, identity, request)
    if matches is not None:
        contacts.check_match(await matches.is_current_match(
            identity=identity, offer_id=request.offer_id, need_id=request.need_id),
            offer_id=request.offer_id, need_id=request.need_id)

    async def work(repo: Repository) -> contacts.Contact:
        requester, recipient = await _contact_parties(repo, identity, request)
        contact = contacts.new_contact(request, contact_id=new_id(), requester=requester,
                                       recipient=recipient, now=now)
        await repo.insert_contact(contact)
        await _emit(repo, "contact.requested", tenant=contact.requester_tenant,
                    subject=contact.id, data=contacts.snapshot(contact))
        return contact

    return contacts.contact_view(await store.run_in_transaction(work))


async def _decide_contact(store: ProfileStore, identity: Identity, contact_id: str,
                          status: str, now: datetime) -> dict:
    async def work(repo: Repository) -> tuple[contacts.Contact, Actor | None, Actor | None]:
        contact = await repo.get_contact(contact_id)
        if contact is None:
            raise NotFound(f"The contact request {contact_id!r} does not exist.")
        recipient = await repo.get_actor(contact.recipient_actor_id)
        updated = contacts.decided(contact, status, identity=identity, recipient=recipient,
                                   now=now)
        await repo.save_contact(updated, expected_version=contact.version)
        await _emit(repo, f"contact.{status}", tenant=updated.recipient_tenant,
                    subject=updated.id, data=contacts.snapshot(updated))
        return updated, await repo.get_actor(contact.requester_actor_id), recipient

    contact, requester, recipient = await store.run_in_transaction(work)
    return contacts.contact_view(contact, requester=requester, recipient=recipient)


async def accept_contact(*, store: ProfileStore, identity: Identity, contact_id: str,
                         now: datetime) -> dict:
    """The recipient agrees: from now on both parties see each other's name and e-mail."""
    return await _decide_contact(store, identity, contact_id, "accepted", now)


async def decline_contact(*, store: ProfileStore, identity: Identity, contact_id: str,
                          now: datetime) -> dict:
    return await _decide_contact(store, identity, contact_id, "declined", now)


async def get_contact(*, store: ProfileStore, identity: Identity, contact_id: str) -> dict:
    """A request as its parties see it; to anybody else it does not exist."""
    repo = store.read
    contact = await repo.get_contact(contact_id)
    requester = await repo.get_actor(contact.requester_actor_id) if contact else None
    recipient = await repo.get_actor(contact.recipient_actor_id) if contact else None
    if contact is None or not contacts.is_party(identity, requester=requester,
                                                recipient=recipient):
        raise NotFound(f"The contact request {contact_id!r} does not exist.")
    return contacts.contact_view(contact, requester=requester, recipient=recipient)


async def list_contacts(*, store: ProfileStore, identity: Identity, role: ContactRole | None,
                        status: ContactStatus | None, after: str | None,
                        limit: int) -> tuple[list[dict], str | None]:
    """The requests of the actors the caller acts for (sent, received or both), by id."""
    repo = store.read
    own = [a.id for a in await repo.actors_owned_by(identity.sub) if rules.is_owner(identity, a)]
    if not own:
        return [], None
    found = await repo.list_contacts(actor_ids=own, role=role,
                                     statuses=[status] if status else None, after=after,
                                     limit=limit + 1)
    next_after = found[limit - 1].id if len(found) > limit else None
    return [contacts.contact_view(c) for c in found[:limit]], next_after


async def my_actors(*, store: ProfileStore, identity: Identity) -> list[Actor]:
    """The caller's own actors, by the owners index."""
    return [actor for actor in await store.read.actors_owned_by(identity.sub)
            if rules.is_owner(identity, actor)]


async def _own_actor_ids(repo: Repository, identity: Identity | None) -> list[str]:
    if identity is None:
        return []
    return [a.id for a in await repo.actors_owned_by(identity.sub) if rules.is_owner(identity, a)]


async def _is_contact_partner(repo: Repository, actor_id: str, own_actor_ids: list[str]) -> bool:
    """Whether one of the caller's actors and `actor_id` agreed to a contact (both consented)."""
    return bool(own_actor_ids) and contacts.shares_accepted_contact(
        await repo.list_contacts(actor_ids=[actor_id], statuses=["accepted"]),
        actor_id=actor_id, own_actor_ids=own_actor_ids)


async def item_views(*, store: ProfileStore, identity: Identity | None,
                     items: list[Item]) -> list[dict]:
    """Items as the caller sees them: the exact place of a person's item only for its owners
    and the partners of an accepted contact request; everybody else (moderators too) sees the
    coarse point (platform_common.privacy)."""
    repo = store.read
    own = await _own_actor_ids(repo, identity)
    exact: dict[str, bool] = {}
    for item in items:
        if is_private(item.actor_type) and item.actor_id not in exact:
            exact[item.actor_id] = item.actor_id in own or await _is_contact_partner(
                repo, item.actor_id, own)
    return [rules.item_view(item, exact=exact.get(item.actor_id, False)) for item in items]


async def actor_view_for(*, store: ProfileStore, identity: Identity | None, actor_id: str) -> dict:
    """An actor's profile: owners see everything, the other party of an accepted contact
    also the e-mail (and a person's exact location), everybody else the public profile."""
    actor = await get_actor(store=store, actor_id=actor_id)
    if identity is None and actor.type == "person":
        # Organisations' profiles are public pages; a private person's only for signed-in users.
        raise Unauthorized("Sign in to see the profiles of private persons.")
    if rules.is_owner(identity, actor):
        return rules.actor_view(actor, private=True)
    if await _is_contact_partner(store.read, actor_id, await _own_actor_ids(store.read, identity)):
        return contacts.counterpart_actor_view(actor)
    return rules.actor_view(actor, private=False)


# ---- statistics ------------------------------------------------------------------------------
async def tenant_stats(*, store: ProfileStore, stats: StatsStore, identity: Identity,
                       tenant_id: str) -> dict:
    """Published items, matches found, contact requests asked and accepted, and the median
    time to a first match: in total, per month and per category (tenant admins, operators)."""
    rules.require_tenant_admin(identity, tenant_id)
    await get_tenant(store=store, tenant_id=tenant_id)
    facts, firsts = await stats.facts(tenant_id)
    return stats_domain.tenant_stats(tenant=tenant_id, facts=facts, first_matches=firsts)


async def record_matches_found(*, stats: StatsStore,
                               found: list[tuple[MatchData, datetime]]) -> None:
    """From the `matches` topic: remember when each pair and each item was first matched (a
    batch at a time: this shares the document store with the API's writes)."""
    if found:
        await stats.record_matches_found(found)


# ---- internal --------------------------------------------------------------------------------
async def export_page(*, store: ProfileStore, collection: ExportCollection, after: str | None,
                      limit: int) -> dict:
    rows = await store.read.export_page(collection, after=after, limit=limit + 1)
    page = rows[:limit]
    return {"items": [records.snapshot(r).model_dump(mode="json") for r in page],
            "next": page[-1].id if len(rows) > limit else None}


async def internal_actor(*, store: ProfileStore, actor_id: str) -> dict:
    actor = await get_actor(store=store, actor_id=actor_id)
    return records.snapshot(actor).model_dump(mode="json")



async def internal_owned_actors(*, store: ProfileStore, subs: list[str]) -> list[dict]:
    """id, tenant, type, name and owners of the actors any of `subs` owns (indexed by owner)."""
    found: dict[str, Actor] = {}
    for sub in dict.fromkeys(subs):
        for actor in await store.read.actors_owned_by(sub):
            found[actor.id] = actor
    return [{"id": a.id, "tenant": a.tenant, "type": a.type, "name": a.name, "owners": a.owners}
            for a in found.values()]

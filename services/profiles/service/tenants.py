"""Tenants (municipalities): created by operators, changed by their admins; neighbourhood
is symmetric, so a change is mirrored on the other tenant with its own event."""
from __future__ import annotations

from datetime import datetime

from platform_common.errors import NotFound
from platform_common.identity import Identity
from services.profiles.domain import branding, mapping, records, rules
from services.profiles.domain.records import Tenant
from services.profiles.domain.requests import TenantCreate, TenantPatch, changes_of
from services.profiles.ports import ProfileStore, Repository
from services.profiles.service.common import emit


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
            await emit(repo, "tenant.updated", tenant=updated.id, subject=updated.id,
                        data=mapping.snapshot(updated))


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
        await emit(repo, "tenant.created", tenant=tenant.id, subject=tenant.id,
                    data=mapping.snapshot(tenant))
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
        if "volunteer_card" in changes:
            changes["volunteer_card_hours_per_year"] = \
                changes.pop("volunteer_card")["hours_per_year"]
        if "neighbours" in changes:
            await _check_neighbours_exist(repo, tenant_id, changes["neighbours"])
        updated = records.patched_tenant(tenant, changes, now=now)
        if updated is None:
            return tenant
        await repo.save_tenant(updated, expected_version=tenant.version)
        await emit(repo, "tenant.updated", tenant=updated.id, subject=updated.id,
                    data=mapping.snapshot(updated))
        before, after = set(tenant.neighbours), set(updated.neighbours)
        await _apply_neighbour_changes(repo, tenant_id, added=after - before,
                                       removed=before - after, now=now)
        return updated

    return await store.run_in_transaction(work)

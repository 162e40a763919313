"""Who may see and change what, the item lifecycle, expiry and version checks."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable

from platform_common import visibility
from platform_common.errors import (
    Conflict, Forbidden, InvalidInput, NotFound, VersionConflict, invalid,
)
from platform_common.identity import Identity

if TYPE_CHECKING:
    from services.profiles.domain.records import Actor, Item, Tenant

ALL_VISIBILITIES = visibility.ALL_VISIBILITIES
ALL_STATUSES = ("published", "closed", "expired", "hidden", "paused")

# Which status an item may move to from which; "closed" is final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "published": frozenset({"closed", "hidden", "expired", "paused"}),
    "paused": frozenset({"published", "closed", "hidden"}),  # its owner resumes or closes it
    "hidden": frozenset({"closed", "published"}),  # a moderator unhides it
    "expired": frozenset({"closed"}),
    "closed": frozenset(),
}


# ---- roles and ownership ---------------------------------------------------------------------
def is_owner(identity: Identity | None, actor: "Actor | None") -> bool:
    """Owners act for an actor, and only from the actor's own tenant (the shared rule)."""
    return actor is not None and visibility.is_owner(identity, owners=actor.owners,
                                                     actor_tenant=actor.tenant)


def sole_owned_organisation(identity: Identity, actor: "Actor") -> bool:
    """An organisation (not a private person) whose only owner is the caller."""
    return actor.type != "person" and actor.owners == [identity.sub]


def is_tenant_admin_of(identity: Identity | None, tenant: str) -> bool:
    return identity is not None and identity.has("tenant_admin") and identity.tenant == tenant


def can_moderate(identity: Identity | None, tenant: str) -> bool:
    """Tenant admins moderate their own tenant; operators every tenant."""
    return visibility.can_moderate(identity, tenant)


def require_operator(identity: Identity) -> None:
    if not identity.is_operator:
        raise Forbidden("Only operators may do this.")


def require_tenant_admin(identity: Identity, tenant: str) -> None:
    if not can_moderate(identity, tenant):
        raise Forbidden(f"Only an admin of tenant {tenant!r} or an operator may do this.")


def require_member_manager(identity: Identity, actor: "Actor") -> None:
    """An org_admin who owns an organisation manages who may act for it."""
    if actor.type == "person":
        raise Conflict("A person's profile has no members.", code="not_an_organisation")
    if not (is_owner(identity, actor) and identity.has("org_admin")):
        raise Forbidden("Only an org_admin who owns this organisation may manage its members.")


# ---- visibility (platform_common.visibility: matching applies the same rule) ---------------
allowed_visibilities = visibility.allowed_visibilities


def can_see_item(identity: Identity | None, item: "Item", *, owner: bool,
                 item_tenant_neighbours: Iterable[str]) -> bool:
    return visibility.can_see_item(identity, tenant=item.tenant, status=item.status,
                                   visibility=item.visibility, owner=owner,
                                   item_tenant_neighbours=item_tenant_neighbours)


def denied(visible: bool, message: str) -> Exception:
    """Forbidden when the caller may see the thing, else not found (existence stays hidden)."""
    return Forbidden(message) if visible else NotFound("The item does not exist.")


# ---- lifecycle -------------------------------------------------------------------------------
def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise Conflict(f"An item that is {current} cannot become {target}.",
                       {"status": current, "requested": target}, code="invalid_transition")


def check_open(item: "Item") -> None:
    """Its owners may still change it: published, or paused by them."""
    if item.status not in ("published", "paused"):
        raise Conflict(f"The item is {item.status} and can no longer be changed.",
                       {"status": item.status}, code="item_not_open")


def check_version(current: int, expected: int | None) -> None:
    if expected is None:
        raise invalid(["version"], "the current version is required (in the body or If-Match)")
    if expected != current:
        raise VersionConflict(current, expected)


# An item without a last date (weekly windows, or no schedule: "by arrangement") is ongoing,
# but not for ever: it lapses this long after its owners last published, changed or resumed it,
# so that listings nobody looks after leave search and matching. The end is the item's
# `expires_at` ("Endet am" in the web app); any change by its owners renews it.
ONGOING_LIFETIME = timedelta(days=180)


def last_date_of(schedule: dict) -> datetime | None:
    """The end of the item's last one-off date, if it has any."""
    return max((window["end"] for window in schedule.get("dates") or ()), default=None)


def is_ongoing(schedule: dict) -> bool:
    """Weekly windows, or no dates at all: the item has no last date of its own."""
    return bool(schedule.get("weekly")) or not schedule.get("dates")


def expiry_of(schedule: dict, *, renewed_at: datetime) -> datetime:
    """When an item expires. One-off dates only: the end of its last date. Ongoing (weekly
    windows or no schedule): ONGOING_LIFETIME after `renewed_at` (when its owners last
    published, changed or resumed it), or at its last date if that is later."""
    last = last_date_of(schedule)
    if not is_ongoing(schedule):
        return last
    lapse = renewed_at + ONGOING_LIFETIME
    return lapse if last is None or last < lapse else last


def due_at(item: "Item") -> datetime | None:
    """When the relay expires a published item. Items stored before ongoing items had an end
    (`expires_at` null) lapse ONGOING_LIFETIME after their last change."""
    if item.expires_at is not None:
        return item.expires_at
    if is_ongoing(item.schedule.model_dump()):
        return item.updated_at + ONGOING_LIFETIME
    return None


def check_not_past(schedule: dict, *, now: datetime) -> None:
    """Publishing something whose every date already passed is a mistake; refuse it."""
    last = last_date_of(schedule)
    if last is not None and not schedule.get("weekly") and last <= now:
        raise invalid(["schedule", "dates"], "all dates are in the past")


def check_categories_allowed(categories: list[str], tenant: "Tenant") -> None:
    """A tenant may restrict which categories its items use (empty list = all)."""
    if not tenant.categories:
        return
    problems = [(["categories", index], f"category {value!r} is not enabled in {tenant.id!r}")
                for index, value in enumerate(categories) if value not in tenant.categories]
    if problems:
        raise InvalidInput(problems)


def check_neighbours(tenant_id: str, neighbours: list[str], known: set[str]) -> None:
    problems = []
    for index, neighbour in enumerate(neighbours):
        if neighbour == tenant_id:
            problems.append((["neighbours", index], "a tenant cannot neighbour itself"))
        elif neighbour not in known:
            problems.append((["neighbours", index], f"unknown tenant {neighbour!r}"))
    if problems:
        raise InvalidInput(problems)


def check_logo(actor_type: str, logo_url: str | None) -> None:
    """Organisations show a logo on their public profile; a private person's picture is not
    something the platform publishes."""
    if logo_url and actor_type == "person":
        raise InvalidInput([(["logo_url"], "only organisations have a logo, not private persons")])

"""Who may see what: the `visible_to` list stored with every document and the viewer's scopes.

A document is visible to a viewer when its `visible_to` shares a value with the viewer's scopes.
`*` stands for everybody (also anonymous callers).
"""
from __future__ import annotations

from collections.abc import Iterable

from platform_common.identity import Identity

EVERYONE = "*"

# Organisations present themselves to the whole state; a private person's profile stays within
# the own municipality.
PUBLIC_ACTOR_TYPES = frozenset({"association", "initiative", "education", "company"})


def item_visible_to(*, tenant: str, visibility: str, neighbours: Iterable[str]) -> list[str]:
    """`state` -> everybody, `tenant` -> the own municipality, `region` -> it and its neighbours."""
    if visibility == "state":
        return [EVERYONE]
    if visibility == "region":
        return [tenant] + sorted({n for n in neighbours if n and n != tenant})
    return [tenant]


def actor_visible_to(*, tenant: str, actor_type: str) -> list[str]:
    return [EVERYONE] if actor_type in PUBLIC_ACTOR_TYPES else [tenant]


def viewer_scopes(identity: Identity | None) -> list[str] | None:
    """The `visible_to` values this viewer may see; None means no restriction (operators)."""
    if identity is None:
        return [EVERYONE]
    if identity.is_operator:
        return None
    return [EVERYONE, identity.tenant]

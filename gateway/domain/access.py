"""Who may call a route: anyone, any signed-in identity, or only identities holding a role."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from platform_common.identity import Identity

Problem = Literal["unauthenticated", "forbidden"]


@dataclass(frozen=True)
class Access:
    public: bool = False
    # Empty: any signed-in identity. Otherwise at least one of these roles.
    roles: frozenset[str] = frozenset()


PUBLIC = Access(public=True)
SIGNED_IN = Access()


def any_role(*roles: str) -> Access:
    return Access(roles=frozenset(roles))


def access_problem(access: Access, identity: Identity | None) -> Problem | None:
    if access.public:
        return None
    if identity is None:
        return "unauthenticated"
    if access.roles and not access.roles & identity.roles:
        return "forbidden"
    return None

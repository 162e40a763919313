"""Who is calling: a plain value, resolved once by the gateway from the user's JWT.

The gateway hands it to each service as a short-lived identity it signs for that service; the
services verify it in their HTTP layer (platform_common/http/auth.py) and never see the user's
token. See platform_common/service_identity.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("member", "org_admin", "tenant_admin", "operator")


@dataclass(frozen=True)
class Identity:
    sub: str
    tenant: str
    roles: frozenset[str]
    # The signed form it arrived in, so that a service can forward it to a service it calls
    # on the user's behalf; None for identities made in code.
    token: str | None = field(default=None, repr=False, compare=False)

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles

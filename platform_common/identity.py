"""Who is calling: a plain value, resolved once by the gateway from the user's JWT.

The gateway hands it to each service as a short-lived identity it signs for that service; the
services verify it in their HTTP layer (platform_common/http/auth.py) and never see the user's
token. See platform_common/service_identity.py.
"""
from __future__ import annotations

from dataclasses import dataclass

ROLES = ("member", "org_admin", "tenant_admin", "operator")


@dataclass(frozen=True)
class Identity:
    sub: str
    tenant: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles

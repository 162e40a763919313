"""Who is calling: resolved once by the gateway from the JWT, passed to services in headers.

Services sit behind the gateway on an internal network (deploy/k8s NetworkPolicy) and trust
these headers; they never see tokens.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from platform_common.http.errors import ApiError

ROLES = ("member", "org_admin", "tenant_admin", "operator")
HEADER_SUB, HEADER_TENANT, HEADER_ROLES = "X-Auth-Sub", "X-Auth-Tenant", "X-Auth-Roles"


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

    def headers(self) -> dict[str, str]:
        return {HEADER_SUB: self.sub, HEADER_TENANT: self.tenant,
                HEADER_ROLES: ",".join(sorted(self.roles))}


def identity_from_headers(request: Request) -> Identity | None:
    sub = request.headers.get(HEADER_SUB)
    tenant = request.headers.get(HEADER_TENANT)
    if not sub or not tenant:
        return None
    roles = frozenset(r for r in request.headers.get(HEADER_ROLES, "").split(",") if r in ROLES)
    return Identity(sub=sub, tenant=tenant, roles=roles)


def optional_identity(request: Request) -> Identity | None:
    return identity_from_headers(request)


def required_identity(request: Request) -> Identity:
    identity = identity_from_headers(request)
    if identity is None:
        raise ApiError(401, "unauthorized", "Authentication is required.")
    return identity


CurrentIdentity = Annotated[Identity, Depends(required_identity)]
MaybeIdentity = Annotated[Identity | None, Depends(optional_identity)]

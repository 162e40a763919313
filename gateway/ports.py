"""Every interface the gateway's use cases depend on, and the errors their adapters raise.

Adapters (gateway/adapters/): tokens.py and jwks.py (TokenVerifier, TokenIssuer),
redis_counters.py (CounterStore), upstreams.py (Upstreams), geocoders.py (Geocoder).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

from gateway.domain.places import Place
from platform_common.identity import Identity


# ---- who is calling ----------------------------------------------------------------------------
class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Identity:
        """The identity a valid token carries; raises gateway.domain.auth.InvalidToken for a
        token that is malformed, expired, badly signed or lacks a claim, and KeysUnavailable
        when the keys to check it cannot be had (not the caller's fault)."""
        ...


class TokenIssuer(Protocol):
    def issue(self, *, sub: str, tenant: str, roles: Iterable[str], ttl_s: int) -> str:
        """A token its verifier accepts (dev mode only)."""
        ...


class KeysUnavailable(Exception):
    """The identity provider's key set could not be fetched: not the caller's fault."""


# ---- rate limits -------------------------------------------------------------------------------
class CounterStore(Protocol):
    async def increment(self, key: str, expire_s: int) -> int:
        """Add one to the counter and return the new value. A new counter expires `expire_s`
        after this first increment; later increments do not extend it. Raises
        CounterStoreUnavailable when the store does not answer."""
        ...

    async def ping(self) -> None:
        """Raises unless the store answers (a dependency check)."""
        ...


class CounterStoreUnavailable(Exception):
    """The counter store did not answer; the limiter then lets the request through."""


# ---- the services behind the gateway -----------------------------------------------------------
@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class ServiceUnavailable(Exception):
    """A service did not answer (down, refused, too slow): the client gets a 503 naming it."""

    def __init__(self, service: str, reason: str):
        super().__init__(f"{service}: {reason}")
        self.service, self.reason = service, reason


class Upstreams(Protocol):
    @property
    def names(self) -> list[str]: ...

    async def request(self, service: str, method: str, path: str, *, query: str = "",
                      headers: dict[str, str] | None = None, body: bytes | None = None,
                      identity: Identity | None = None,
                      as_service: bool = False) -> UpstreamResponse:
        """`identity`: the signed-in caller, signed for `service`; `as_service`: send the
        gateway's own credential (internal routes). Raises ServiceUnavailable."""
        ...

    async def check_alive(self, service: str) -> None: ...


# ---- places ------------------------------------------------------------------------------------
class Geocoder(Protocol):
    async def places(self, query: str, *, limit: int) -> list[Place]:
        """The best places for a name (or a 5-digit postcode, where supported), best first.
        Raises GeocoderUnavailable."""
        ...


class GeocoderUnavailable(Exception):
    """The geocoding service did not answer usably."""

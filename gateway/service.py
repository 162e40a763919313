"""What the gateway does per request, independent of FastAPI: forwarding, export, docs, tokens,
rate limits. Use cases over the ports (gateway/ports.py), raising domain errors."""
from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from typing import Callable

from gateway.domain.rate_limit import (
    WINDOW_S, Decision, Limit, counter_key, decide, window_of,
)
from gateway.domain.routes import PROXY_ROUTES, ProxyRoute, UnsafePathParameter, upstream_path
from gateway.openapi import merge_openapi
from gateway.ports import (
    CounterStore, CounterStoreUnavailable, ServiceUnavailable, TokenIssuer, UpstreamResponse,
    Upstreams,
)
from platform_common.errors import BadRequest, invalid
from platform_common.http import REQUEST_ID_HEADER
from platform_common.http.json_body import parse_json
from platform_common.identity import Identity
from platform_common.observability import get_logger

log = get_logger(__name__)


def check_json_body(body: bytes) -> None:
    """The services take JSON only; anything else is refused here with a clear 400."""
    if not body:
        return
    try:
        parse_json(body)  # also refuses duplicate keys and deep nesting, as the services do
    except json.JSONDecodeError as error:
        raise BadRequest("The request body is not valid JSON.",
                         [{"field": "body", "path": [], "message": error.msg}],
                         code="malformed_json") from None


def upstream_headers(*, request_id: str, language: str | None, has_body: bool,
                     preconditions: dict[str, str] | None = None) -> dict[str, str]:
    # Built from scratch: client-sent headers and the token never reach a service; the
    # identity goes signed for the one service (Upstreams.request).
    headers = {REQUEST_ID_HEADER: request_id, "Accept": "application/json"}
    if language:
        headers["Accept-Language"] = language[:100]
    if has_body:
        headers["Content-Type"] = "application/json"
    headers.update(preconditions or {})
    return headers


async def forward(*, upstreams: Upstreams, route: ProxyRoute, path_params: dict[str, str],
                  query: str, body: bytes, identity: Identity | None, request_id: str,
                  language: str | None = None,
                  preconditions: dict[str, str] | None = None) -> UpstreamResponse:
    try:
        path = upstream_path(route, path_params)
    except UnsafePathParameter as error:
        raise invalid([error.name], str(error)) from None
    check_json_body(body)
    headers = upstream_headers(request_id=request_id, language=language,
                               has_body=bool(body), preconditions=preconditions)
    return await upstreams.request(route.service, route.method, path, query=query,
                                   headers=headers, body=body or None, identity=identity)


class UpstreamFailure(Exception):
    """A service answered with an error: the client gets that answer unchanged."""

    def __init__(self, service: str, response: UpstreamResponse):
        super().__init__(f"{service} answered {response.status}")
        self.service, self.response = service, response


async def export_personal_data(*, upstreams: Upstreams, identity: Identity,
                               request_id: str) -> dict:
    """Everything the platform stores about the caller, from every service that holds some.

    An export must be complete: if one part fails, the whole export fails.
    """
    headers = upstream_headers(request_id=request_id, language=None, has_body=False)
    # profiles: profiles, items, contacts; matching: the suggestions about the caller's items;
    # notifications: inbox, preferences, deliveries.
    parts = ("profiles", "matching", "notifications")
    responses = await asyncio.gather(
        *(upstreams.request(service, "GET", "/me/export", headers=headers, identity=identity)
          for service in parts))
    document: dict = {"subject": identity.sub, "tenant": identity.tenant,
                      "exported_at": datetime.now(timezone.utc).isoformat()}
    for service, response in zip(parts, responses):
        if not response.ok:
            raise UpstreamFailure(service, response)
        try:
            document[service] = json.loads(response.body) if response.body else None
        except ValueError:
            raise ServiceUnavailable(service, "answered with something that is not JSON") from None
    return document


def dev_token(*, issuer: TokenIssuer, sub: str, tenant: str, roles: list[str],
              ttl_s: int) -> dict:
    token = issuer.issue(sub=sub, tenant=tenant, roles=roles, ttl_s=ttl_s)
    return {"access_token": token, "token_type": "bearer", "expires_in": ttl_s}


class OpenApiCache:
    """The merged API description; each service's part is refetched after max_age_s.

    A service that does not answer keeps its last good description (or a placeholder), so the
    docs stay available while one service is down.
    """

    def __init__(self, *, upstreams: Upstreams, max_age_s: float,
                 clock: Callable[[], float] = time.monotonic, fetch_timeout_s: float = 3.0,
                 retry_after_failure_s: float = 5.0):
        self._upstreams, self._max_age_s, self._clock = upstreams, max_age_s, clock
        self._fetch_timeout_s, self._retry_s = fetch_timeout_s, retry_after_failure_s
        self._documents: dict[str, dict | None] = {name: None for name in upstreams.names}
        self._next_fetch_at: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def _fetch(self, service: str) -> None:
        try:
            async with asyncio.timeout(self._fetch_timeout_s):
                response = await self._upstreams.request(service, "GET", "/openapi.json")
            if not response.ok:
                raise ValueError(f"/openapi.json answered {response.status}")
            self._documents[service] = json.loads(response.body)
            self._next_fetch_at[service] = self._clock() + self._max_age_s
        except (ServiceUnavailable, TimeoutError, ValueError) as error:
            log.warning("openapi_fetch_failed", upstream=service, error=str(error))
            self._next_fetch_at[service] = self._clock() + min(self._retry_s, self._max_age_s)

    async def document(self, *, own: dict, title: str, version: str, description: str) -> dict:
        async with self._lock:
            now = self._clock()
            due = [name for name in self._documents if now >= self._next_fetch_at.get(name, now)]
            await asyncio.gather(*(self._fetch(name) for name in due))
        return merge_openapi(own=own, services=dict(self._documents), routes=PROXY_ROUTES,
                             title=title, version=version, description=description)


class RateLimiter:
    """Fixed-window limits counted in the counter store. When the store fails, requests pass
    (fail open: availability over strictness) and the store is skipped for a short back-off,
    so a dead store costs no timeout per request."""

    def __init__(self, store: CounterStore, *, clock: Callable[[], float],
                 store_backoff_s: float = 5.0):
        self._store, self._clock, self._backoff_s = store, clock, store_backoff_s
        self._skip_store_until = float("-inf")

    async def check(self, caller: str, limits: list[Limit]) -> Decision:
        """Count this request in every limit; denied when any limit is exceeded."""
        now = self._clock()
        if now < self._skip_store_until:
            return Decision(True, degraded=True)
        window_index, seconds_left = window_of(now)
        tightest: Decision | None = None
        for limit in limits:
            try:
                count = await self._store.increment(
                    counter_key(limit.bucket, caller, window_index), WINDOW_S + 5)
            except CounterStoreUnavailable as error:
                self._skip_store_until = now + self._backoff_s
                return Decision(True, degraded=True, store_error=str(error) or "unavailable")
            decision = decide(count, limit, seconds_left)
            if not decision.allowed:
                return decision
            if tightest is None or decision.remaining < tightest.remaining:
                tightest = decision
        return tightest or Decision(True)

"""The matching service over HTTP: is an offer/need pair among the current suggestions?

Asked with the caller's signed identity (forwarded with profiles' own service credential), so
matching shows only what the caller may see.
Contact requests must not depend on matching being up: any failure (unreachable, timeout,
a server error, an unexpected answer) is logged and counted and answers None ("cannot
tell"), never an exception.
"""
from __future__ import annotations

from urllib.parse import quote

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from prometheus_client import Counter

from platform_common.identity import Identity
from platform_common.observability.logging import get_logger
from platform_common.service_identity import ServiceKeys

log = get_logger(__name__)
# The API caps `limit` at 100; the matcher keeps far fewer suggestions per item.
MATCHES_LIMIT = 100

MATCH_CHECKS = Counter("contact_match_checks_total",
                       "Checks with the matching service before a contact request, by result "
                       "(match, no_match, unavailable)", ["result"])


class MatchingClient:
    def __init__(self, base_url: str, *, keys: ServiceKeys, timeout_s: float,
                 transport: httpx.AsyncBaseTransport | None = None):
        self._keys = keys
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s,
                                       follow_redirects=False, transport=transport)
        # Continues the caller's trace into matching (W3C traceparent header).
        HTTPXClientInstrumentor.instrument_client(self._http)

    async def close(self) -> None:
        await self._http.aclose()

    async def is_current_match(self, *, identity: Identity, offer_id: str,
                               need_id: str) -> bool | None:
        path = f"/offers/{quote(offer_id, safe='')}/matches"
        try:
            response = await self._http.get(
                path, params={"limit": MATCHES_LIMIT},
                headers=self._keys.on_behalf_headers(identity, audience="matching"))
        except httpx.HTTPError as exc:
            return self._unavailable(f"{exc.__class__.__name__}: {exc}")
        if response.status_code == 403:
            # The caller owns the need but none of this offer's suggestions: no match.
            MATCH_CHECKS.labels("no_match").inc()
            return False
        if response.status_code != 200:
            return self._unavailable(f"HTTP {response.status_code}")
        try:
            pairs = {(m["offer_id"], m["need_id"]) for m in response.json()["items"]}
        except (ValueError, KeyError, TypeError) as exc:
            return self._unavailable(f"unexpected answer: {exc!r}")
        found = (offer_id, need_id) in pairs
        MATCH_CHECKS.labels("match" if found else "no_match").inc()
        return found

    @staticmethod
    def _unavailable(reason: str) -> None:
        MATCH_CHECKS.labels("unavailable").inc()
        log.warning("match_check_unavailable", reason=reason[:300])
        return None

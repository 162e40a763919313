"""The services behind the gateway, one pooled HTTP client each, with firm time limits.

Each call carries the caller's identity signed for that one service (audience = its name), and,
on the gateway's own internal calls, the gateway's service credential."""
from __future__ import annotations

import asyncio

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

from gateway.ports import ServiceUnavailable, UpstreamResponse
from platform_common.identity import Identity
from platform_common.service_identity import ServiceKeys

# Response headers worth passing on to the client; hop-by-hop and length headers are not.
PASSED_RESPONSE_HEADERS = ("content-type", "location", "etag", "last-modified", "retry-after",
                           "cache-control", "content-language", "link", "content-disposition")


class HttpUpstreams:
    def __init__(self, urls: dict[str, str], *, keys: ServiceKeys, connect_timeout_s: float,
                 timeout_s: float):
        self._timeout_s, self._keys = timeout_s, keys
        self._clients: dict[str, httpx.AsyncClient] = {}
        for name, url in urls.items():
            client = httpx.AsyncClient(
                base_url=url, follow_redirects=False,
                timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
            # Continues the caller's trace into the service (W3C traceparent header).
            HTTPXClientInstrumentor.instrument_client(client)
            self._clients[name] = client

    @property
    def names(self) -> list[str]:
        return list(self._clients)

    async def request(self, service: str, method: str, path: str, *, query: str = "",
                      headers: dict[str, str] | None = None, body: bytes | None = None,
                      identity: Identity | None = None,
                      as_service: bool = False) -> UpstreamResponse:
        """`identity`: the signed-in caller, signed for `service`; `as_service`: send the
        gateway's own credential (internal routes)."""
        client = self._clients[service]
        headers = dict(headers or {})
        if identity is not None:
            headers.update(self._keys.identity_headers(identity, audience=service))
        if as_service:
            headers.update(self._keys.caller_headers(audience=service))
        url = httpx.URL(path, query=query.encode("ascii", "ignore")) if query else path
        try:
            # httpx limits each phase; this bounds the whole exchange.
            async with asyncio.timeout(self._timeout_s):
                response = await client.request(method, url, headers=headers, content=body)
                content = await response.aread()
        except TimeoutError:
            raise ServiceUnavailable(service, f"no answer within {self._timeout_s:g} s") from None
        except httpx.TimeoutException:
            raise ServiceUnavailable(service, "timed out") from None
        except httpx.TransportError as error:
            raise ServiceUnavailable(service, error.__class__.__name__) from None
        passed = {name: response.headers[name] for name in PASSED_RESPONSE_HEADERS
                  if name in response.headers}
        return UpstreamResponse(response.status_code, content, passed)

    async def check_alive(self, service: str) -> None:
        """Raises unless the service answers its /healthz with 200 (a readiness check)."""
        response = await self.request(service, "GET", "/healthz")
        if response.status != 200:
            raise ServiceUnavailable(service, f"/healthz answered {response.status}")

    async def close(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))

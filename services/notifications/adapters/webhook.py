"""Posting webhooks over HTTP(S), only to public addresses (or WEBHOOK_ALLOWED_TARGETS).

The host is resolved here, every address checked, and the connection made to the checked
address (Host header and TLS name stay the URL's host), so a DNS answer that changes between
the check and the call (DNS rebinding) cannot point the call inside. Redirects are not
followed: a 3xx is a failed delivery.
"""
from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx

from services.notifications.domain.webhooks import (
    TARGET_REFUSED, AllowedTargets, DeliveryFailed, literal_address, refused_addresses,
)


class HttpWebhookSender:
    def __init__(self, *, timeout_s: float, allowed_targets: AllowedTargets | None = None):
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._allowed = allowed_targets or AllowedTargets()

    async def close(self) -> None:
        await self._client.aclose()

    async def _addresses(self, host: str, port: int) -> list[str]:
        literal = literal_address(host)
        if literal is not None:
            return [literal]
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(info[4][0] for info in infos))

    async def ensure_allowed(self, url: str) -> None:
        """At registration: ValueError for a target that is (or resolves to) an internal
        address. A name that does not resolve now is accepted; delivery checks again."""
        parts = urlsplit(url)
        try:
            addresses = await self._addresses(parts.hostname, _port(parts))
        except (socket.gaierror, UnicodeError):
            return
        if refused_addresses(parts.hostname, addresses, self._allowed):
            raise ValueError("must not point at a loopback, private, link-local or other "
                             "internal address")

    async def post(self, url: str, *, body: bytes, headers: dict[str, str]) -> None:
        """Raise DeliveryFailed (with a message safe to show) unless the target answers 2xx."""
        parts = urlsplit(url)
        port = _port(parts)
        try:
            addresses = await self._addresses(parts.hostname, port)
        except (socket.gaierror, UnicodeError):
            raise DeliveryFailed("delivery failed: the host name does not resolve") from None
        if refused_addresses(parts.hostname, addresses, self._allowed):
            raise DeliveryFailed(TARGET_REFUSED)
        address = addresses[0]
        pinned = urlunsplit((parts.scheme, _netloc(address, port), parts.path or "/",
                             parts.query, ""))
        extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        try:
            async with self._client.stream(
                    "POST", pinned, content=body, extensions=extensions,
                    headers={**headers, "Host": _netloc(parts.hostname, parts.port)}) as response:
                status = response.status_code  # the body is never read, nor shown
        except httpx.TimeoutException:
            raise DeliveryFailed("delivery failed: timed out") from None
        except (httpx.HTTPError, OSError):
            raise DeliveryFailed("delivery failed: no connection") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"delivery failed: HTTP {status}")


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _netloc(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host

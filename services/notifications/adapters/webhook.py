"""Posting webhooks over HTTP(S)."""
from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

import httpx

from services.notifications.domain.webhooks import is_private_address


class HttpWebhookSender:
    def __init__(self, *, timeout_s: float, allow_private_targets: bool):
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._allow_private = allow_private_targets

    async def close(self) -> None:
        await self._client.aclose()

    async def ensure_allowed(self, url: str) -> None:
        if self._allow_private:
            return
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port,
                                                                 type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ValueError(f"host {parts.hostname!r} cannot be resolved") from exc
        if any(is_private_address(info[4][0]) for info in infos):
            raise ValueError("must not point at a private or local address")

    async def post(self, url: str, *, body: bytes, headers: dict[str, str]) -> None:
        await self.ensure_allowed(url)
        response = await self._client.post(url, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"webhook answered HTTP {response.status_code}")

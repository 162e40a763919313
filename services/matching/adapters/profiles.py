"""The profiles service over HTTP: the system of record.

The worker pages through the internal export at start; the API asks whether the caller may
see an item (forwarding the caller's signed identity) and who owns an actor. Every call carries
matching's own service credential.
"""
from __future__ import annotations

from typing import Any, AsyncIterator, Literal, Protocol
from urllib.parse import quote

import httpx

from platform_common.identity import Identity
from platform_common.service_identity import ServiceKeys

AUDIENCE = "profiles"

ExportCollection = Literal["tenants", "offers", "needs"]


class ProfilesUnavailable(Exception):
    """Profiles did not answer or answered with a server error."""


class SystemOfRecord(Protocol):
    def export(self, collection: ExportCollection, *, page_size: int) -> AsyncIterator[dict[str, Any]]: ...


class ItemDirectory(Protocol):
    async def visible_item(self, *, kind: str, item_id: str, identity: Identity) -> dict[str, Any] | None: ...
    async def actor(self, actor_id: str) -> dict[str, Any] | None: ...
    async def own_items(self, *, identity: Identity) -> list[dict[str, Any]]: ...


class ProfilesClient:
    def __init__(self, base_url: str, *, keys: ServiceKeys, timeout_s: float = 10.0):
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self._keys = keys

    async def close(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, *, params: dict | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            response = await self._http.get(path, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise ProfilesUnavailable(f"GET {path}: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise ProfilesUnavailable(f"GET {path}: HTTP {response.status_code}")
        return response

    async def export(self, collection: ExportCollection, *,
                     page_size: int = 1000) -> AsyncIterator[dict[str, Any]]:
        after: str | None = None
        while True:
            params = {"limit": page_size, **({"after": after} if after else {})}
            response = await self._get(f"/internal/export/{collection}", params=params,
                                       headers=self._keys.caller_headers(audience=AUDIENCE))
            if response.status_code != 200:
                raise ProfilesUnavailable(
                    f"export of {collection}: HTTP {response.status_code} {response.text[:200]}")
            page = response.json()
            for row in page["items"]:
                yield row
            after = page.get("next")
            if not after:
                return

    async def visible_item(self, *, kind: str, item_id: str,
                           identity: Identity) -> dict[str, Any] | None:
        """The item as the caller may see it, or None when it does not exist for the caller."""
        path = f"/{kind}s/{quote(item_id, safe='')}"
        response = await self._get(
            path, headers=self._keys.on_behalf_headers(identity, audience=AUDIENCE))
        if response.status_code in (403, 404, 422):
            return None
        if response.status_code != 200:
            raise ProfilesUnavailable(f"GET {path}: HTTP {response.status_code}")
        return response.json()

    async def own_items(self, *, identity: Identity, page_size: int = 200) -> list[dict[str, Any]]:
        """Every offer and need of the actors the caller owns, in every status."""
        found: list[dict[str, Any]] = []
        for kind in ("offer", "need"):
            after: str | None = None
            while True:
                params = {"limit": page_size, **({"after": after} if after else {})}
                response = await self._get(
                    f"/{kind}s", params=params,
                    headers=self._keys.on_behalf_headers(identity, audience=AUDIENCE))
                if response.status_code != 200:
                    raise ProfilesUnavailable(f"GET /{kind}s: HTTP {response.status_code}")
                page = response.json()
                found += page["items"]
                after = page.get("next")
                if not after:
                    break
        return found

    async def actor(self, actor_id: str) -> dict[str, Any] | None:
        """The actor with its owners (internal view), or None when it does not exist."""
        path = f"/internal/actors/{quote(actor_id, safe='')}"
        response = await self._get(path, headers=self._keys.caller_headers(audience=AUDIENCE))
        if response.status_code in (404, 422):
            return None
        if response.status_code != 200:
            raise ProfilesUnavailable(f"GET {path}: HTTP {response.status_code}")
        return response.json()

"""The profiles service's internal export API as an `ExportSource` for rebuilding the index.

`GET <profiles>/internal/export/{tenants|actors|offers|needs}?after=<id>&limit=<n>` answers
`{"items": [...], "next": <id or null>}`; the items are exactly the event payload models.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

import httpx
from pydantic import BaseModel
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from platform_common.events.models import ActorData, ItemData, TenantData
from platform_common.service_identity import ServiceKeys

M = TypeVar("M", bound=BaseModel)


class ExportRefused(Exception):
    """Profiles refused search's service credential (401/403), or there is none to send:
    retrying cannot help, the keys in this environment are missing or not the stack's."""


def _refusal(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def _transient(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500 or error.response.status_code == 429
    return isinstance(error, httpx.TransportError)


class ProfilesExport:
    def __init__(self, base_url: str, *, keys: ServiceKeys, page_size: int = 1000,
                 timeout_s: float = 60, attempts: int = 5, backoff_s: float = 0.5):
        self._base_url, self._page_size = base_url.rstrip("/"), page_size
        self._attempts, self._backoff_s = attempts, backoff_s
        # The export is internal: search's own service credential, fresh for every page.
        self._keys = keys
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def close(self) -> None:
        await self._client.aclose()

    async def _page(self, collection: str, after: str | None, *, limit: int | None = None) -> dict:
        params: dict[str, str | int] = {"limit": limit or self._page_size}
        if after is not None:
            params["after"] = after
        async for attempt in AsyncRetrying(stop=stop_after_attempt(self._attempts),
                                           wait=wait_exponential(self._backoff_s, max=5),
                                           retry=retry_if_exception(_transient), reraise=True):
            with attempt:
                try:
                    headers = self._keys.caller_headers(audience="profiles")
                except RuntimeError as missing:  # no SERVICE_SIGNING_KEY
                    raise ExportRefused(str(missing)) from None
                response = await self._client.get(
                    f"{self._base_url}/internal/export/{collection}", params=params,
                    headers=headers)
                if response.status_code in (401, 403):
                    raise ExportRefused(f"profiles refused search's service credential "
                                        f"({_refusal(response)})")
                response.raise_for_status()
                return response.json()
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def check_access(self) -> None:
        """One small page, before anything is rebuilt: ExportRefused when profiles refuses."""
        await self._page("tenants", None, limit=1)

    async def _pages(self, collection: str, model: type[M]) -> AsyncIterator[list[M]]:
        after: str | None = None
        while True:
            body = await self._page(collection, after)
            page = [model.model_validate(raw) for raw in body.get("items", [])]
            if page:
                yield page
            after = body.get("next")
            if not after:
                return

    def tenants(self) -> AsyncIterator[list[TenantData]]:
        return self._pages("tenants", TenantData)

    def actors(self) -> AsyncIterator[list[ActorData]]:
        return self._pages("actors", ActorData)

    def items(self, kind: str) -> AsyncIterator[list[ItemData]]:
        return self._pages(f"{kind}s", ItemData)

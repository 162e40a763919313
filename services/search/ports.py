"""The small interfaces the use cases need from the outside world (one real adapter each).

The two exceptions are part of the index port: its adapter raises them, the use cases turn
them into domain errors."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from platform_common.events.models import ActorData, ActorErasedData, ItemData, TenantData


class QueryRejected(Exception):
    """The index refused a search request (e.g. a cursor that does not fit the sort)."""


class IndexUnavailable(Exception):
    """The search engine did not answer (or answered with a server error)."""


class SearchIndex(Protocol):
    """The read model: writes are idempotent by entity version, reads serve the API."""

    async def put_tenant(self, tenant: TenantData) -> None: ...

    async def put_actor(self, actor: ActorData, *, changed_at) -> None: ...

    async def erase_actor(self, erased: ActorErasedData) -> None: ...

    async def put_item(self, item: ItemData, *, event_type: str | None) -> None: ...

    async def put_items(self, items: list[tuple[ItemData, str | None]]) -> None:
        """`put_item` for each, in order, with a few requests for all of them."""

    async def analyze(self, text: str) -> list[str]:
        """The words of a search text as the index's German analyzer sees them."""
        ...

    async def search(self, *, kinds: tuple[str, ...], body: dict) -> dict: ...

    async def tenant_names(self, tenant_ids: list[str]) -> dict[str, str]: ...


class ExportSource(Protocol):
    """The system of record's export: every entity of a kind, page by page in id order."""

    def tenants(self) -> AsyncIterator[list[TenantData]]: ...

    def actors(self) -> AsyncIterator[list[ActorData]]: ...

    def items(self, kind: str) -> AsyncIterator[list[ItemData]]: ...


class RebuildState(Protocol):
    new: dict[str, str]        # collection -> index being built
    old: dict[str, list[str]]  # collection -> indexes serving now


class RebuildTarget(Protocol):
    """Where a rebuild writes: new indexes beside the live ones, swapped in at the end."""

    settle_s: float

    async def begin(self, *, abandon_previous: bool = False) -> RebuildState: ...

    async def settle(self) -> None: ...

    async def copy_tombstones(self, state: RebuildState) -> int: ...

    async def previous_values(self, state: RebuildState, collection: str, ids: list[str],
                              field_name: str) -> dict[str, object]: ...

    async def load(self, state: RebuildState, collection: str,
                   documents: list[dict]) -> tuple[int, int]: ...

    async def sweep_erased(self, state: RebuildState) -> int: ...

    async def fix_region_visibility(self, state: RebuildState,
                                    neighbours_used: dict[str, list[str]]) -> int: ...

    async def swap(self, state: RebuildState) -> None: ...

    async def drop_old(self, state: RebuildState) -> list[str]: ...

    async def abort(self, state: RebuildState) -> None: ...

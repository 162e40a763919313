"""Every port the matching use cases and the worker depend on (the adapters implement them).

The worker: the feed of item and tenant events (`EventFeed`), the consumer group that decides
which partitions it announces for (`GroupMembership`), the persisted match set (`MatchStore`)
the producer (`EventPublisher`) and the durable snapshots of its state it restarts from
(`SnapshotStore`). The API: the match set and the directory, its read model
of tenants, actors and items fed by the events matching consumes (`Directory`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, Protocol, Sequence

from platform_common.events import Envelope
from services.matching.domain.directory import DirectoryActor, DirectoryItem, DirectoryTenant


@dataclass(frozen=True)
class FeedRecord:
    """One record of the feed, undecoded (the worker decodes, and dead-letters what fails)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


class EventFeed(Protocol):
    """Every partition of the tenants, actors and items topics, from the beginning (or, after
    `seek`, from given offsets)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def partition_count(self, topic: str) -> int: ...
    async def beginning_offsets(self) -> dict[tuple[str, int], int]:
        """Per (topic, partition): the oldest offset still held (retention moves it on)."""
    async def seek(self, offsets: dict[tuple[str, int], int]) -> None:
        """Read these partitions from these offsets on (the others stay where they are)."""
    async def next_batch(self, *, max_records: int, timeout_ms: int = 200) -> list[FeedRecord]: ...
    def request_catch_up(self) -> None:
        """From now on, `caught_up` means: everything that existed at this moment was read."""
    @property
    def caught_up(self) -> bool: ...
    def lag_by_partition(self) -> dict[Any, int]: ...


OnAssigned = Callable[[set[int]], Awaitable[None]]
OnRevoked = Callable[[], Awaitable[None]]


class GroupMembership(Protocol):
    """Membership of the consumer group that splits the `items` partitions among workers."""

    async def start(self, partitions: int, *, on_assigned: OnAssigned,
                    on_revoked: OnRevoked) -> None:
        """Join the group; the callbacks hear every rebalance from then on."""
    async def stop(self) -> None: ...
    @property
    def running(self) -> bool: ...
    @property
    def crashed(self) -> bool: ...


class EventPublisher(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, envelope: Envelope, *, key: str | None = None) -> None: ...
    async def send_raw(self, topic: str, value: bytes, *, key: str | None = None,
                       headers: list[tuple[str, bytes]] | None = None) -> None: ...


class MatchStore(Protocol):
    """The persisted match set: one document per pair ever announced (see adapters/match_store)."""

    async def ensure_indexes(self) -> None: ...
    # ---- the worker
    async def register_instance(self, instance: str) -> None: ...
    async def write(self, docs: list[dict[str, Any]], *, new_keys: set[str]) -> None:
        """Store pair documents (insert or replace by `_id`)."""
    async def commit(self, instance: str, batch: int) -> None:
        """Every event of `batch` of `instance` was acknowledged."""
    async def take_ownership(self, instance: str, partitions: Iterable[int]) -> None: ...
    async def owners(self, partitions: Iterable[int]) -> dict[int, str]: ...
    async def owner_records(self, partitions: Iterable[int]) -> dict[int, tuple[str, str]]:
        """Per partition: (instance, when it took the partition, as an opaque string); every
        `take_ownership` writes a new one, so an unchanged record means nobody took it since."""
    async def written_after(self, partition: int, instance: str, batch: int) -> list[dict[str, Any]]:
        """Pair documents of `partition` whose last write was a batch of `instance` after `batch`."""
    async def found_fingerprints(self, partitions: Iterable[int]) -> dict[int, dict[str, str]]: ...
    async def uncommitted(self, partitions: Iterable[int], *,
                          partition_count: int) -> list[dict[str, Any]]:
        """Pair documents of `partitions` written by batches not committed (yet)."""
    async def get_many(self, keys: list[str]) -> list[dict[str, Any]]: ...
    async def forget_titles(self, item_ids: list[str]) -> None: ...
    # ---- the API
    async def matches_of(self, *, kind: str, item_id: str, limit: int) -> list[dict[str, Any]]:
        """The found pairs of an item, best score first (ties by pair key)."""
    async def pairs_of(self, *, offer_ids: list[str],
                       need_ids: list[str]) -> list[dict[str, Any]]:
        """Every stored pair (found or withdrawn) of these items, by pair key."""


class Directory(Protocol):
    """Matching's read model of who owns what and who sees what: tenants (neighbours), actors
    (tenant, owners, type; erased ones keep no owners) and items (kind, tenant, actor, status,
    visibility). Every write is idempotent and keeps the newest version of an entry: an entry
    whose version is not newer than the stored one changes nothing."""

    async def ensure_indexes(self) -> None: ...
    async def save_tenants(self, tenants: Sequence[DirectoryTenant]) -> None: ...
    async def save_actors(self, actors: Sequence[DirectoryActor]) -> None: ...
    async def save_items(self, items: Sequence[DirectoryItem]) -> None: ...
    async def tenant(self, tenant_id: str) -> DirectoryTenant | None: ...
    async def actor(self, actor_id: str) -> DirectoryActor | None: ...
    async def item(self, item_id: str) -> DirectoryItem | None: ...
    async def actors_owned_by(self, sub: str) -> list[DirectoryActor]: ...
    async def items_of_actors(self, actor_ids: Sequence[str]) -> list[DirectoryItem]:
        """Every item of these actors, in every status, by id."""


@dataclass(frozen=True)
class Snapshot:
    """A durable copy of the worker's state: `meta` (JSON-able: format version, engine
    parameters, partition counts, the feed offsets it covers, counts) and named binary
    `sections` (see services/matching/worker/snapshot.py). Stores treat sections as bytes."""

    meta: dict[str, Any]
    sections: dict[str, bytes]

    @property
    def size(self) -> int:
        return sum(len(section) for section in self.sections.values())


class SnapshotStore(Protocol):
    """Where worker snapshots are kept. A snapshot is either completely saved or not at all
    (a crash while saving leaves the previous one the latest); the two newest are kept."""

    async def save(self, snapshot: Snapshot) -> None: ...
    async def latest(self) -> Snapshot | None:
        """The most recently saved complete snapshot, None when there is none."""

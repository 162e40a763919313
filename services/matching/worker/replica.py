"""The replicated index (README, "Replicated index"): every worker instance holds every open
item, in its engine and, beside it, as match events show them.

Events are applied by version: an item or tenant event not newer than what is held changes
nothing (False). Every change of the engine's match set goes to the caller's `on_change`
together with the event's cause and, for an item that just left, its side (match events show
it as its newest snapshot has it: an erased person's item comes without its title).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from opentelemetry.context import Context

from platform_common.events.models import ItemData, TenantData
from platform_common.observability.tracing import context_from_kafka_headers
from services.matching.domain.pairs import Side, owner_partition
from services.matching.engine.model import Diff
from services.matching.translate import is_open, to_item, to_tenant


@dataclass
class OpenItem:
    """What the worker keeps of an open item besides the engine's copy."""

    side: Side
    kind: str
    partition: int          # the owner partition (meaningful for needs)
    changed_at: datetime


@dataclass(frozen=True)
class Cause:
    """The item event that caused a change: its time and trace context."""

    occurred_at: datetime
    traceparent: str | None
    headers: tuple[tuple[str, bytes], ...] = ()

    def context(self) -> Context:
        return context_from_kafka_headers(self.headers, self.traceparent)


# (the engine's diff, its cause (None: a tenant's change), the side of an item that just left)
OnChange = Callable[[Diff, Cause | None, Side | None], None]


class Replica:
    def __init__(self, engine, *, partitions: int):
        self.engine = engine
        self.partitions = partitions                   # of `items`: a need's owner partition
        self.items: dict[str, OpenItem] = {}           # open items
        self.needs_by_partition: dict[int, set[str]] = defaultdict(set)
        self.tenant_versions: dict[str, int] = {}

    def restore(self, engine, items: dict[str, OpenItem], tenant_versions: dict[str, int]) -> None:
        """Take over a state restored from a snapshot."""
        self.engine, self.items, self.tenant_versions = engine, items, tenant_versions
        self.needs_by_partition = defaultdict(set)
        for item_id, item in items.items():
            if item.kind == "need":
                self.needs_by_partition[item.partition].add(item_id)

    def apply_tenant(self, data: TenantData, on_change: OnChange) -> bool:
        if data.version <= self.tenant_versions.get(data.id, 0):
            return False
        self.tenant_versions[data.id] = data.version
        on_change(self.engine.upsert_tenant(to_tenant(data)), None, None)
        return True

    def apply_item(self, data: ItemData, cause: Cause, on_change: OnChange) -> bool:
        """Apply one item snapshot. An open item the engine refuses (ValueError, TypeError)
        leaves matching, then the error is raised: its event is dead-lettered by the caller."""
        if data.version <= self.version_of(data.id):
            return False
        side = Side(data.id, data.actor_id, data.tenant, data.title)
        if not is_open(data):
            self._remove(data.id, data.version, side, cause, on_change)
            return True
        try:
            item = to_item(data)
        except (ValueError, TypeError):
            self._remove(data.id, data.version, side, cause, on_change)
            raise
        self.remember(data, cause.occurred_at)
        # The event's time ages the engine's tombstones (pruned after their retention).
        on_change(self.engine.upsert(item, at=cause.occurred_at), cause, side)
        return True

    def version_of(self, item_id: str) -> int:
        """The newest version applied: an open item's, or a closed one's tombstone (pruned
        after the engine's retention, so memory stays bounded by the open items)."""
        return self.engine.version_of(item_id) or 0

    def remember(self, data: ItemData, changed_at: datetime) -> None:
        partition = owner_partition(data.id, self.partitions)
        self.items[data.id] = OpenItem(side=Side(data.id, data.actor_id, data.tenant, data.title),
                                       kind=data.kind, partition=partition, changed_at=changed_at)
        if data.kind == "need":
            self.needs_by_partition[partition].add(data.id)

    def _remove(self, item_id: str, version: int, side: Side, cause: Cause,
                on_change: OnChange) -> None:
        diff = self.engine.remove(item_id, version=version, at=cause.occurred_at)
        previous = self.items.pop(item_id, None)
        if previous is not None and previous.kind == "need":
            self.needs_by_partition[previous.partition].discard(item_id)
        on_change(diff, cause, side)

    def side(self, item_id: str, gone: Side | None = None) -> Side:
        """An item's side: open items from memory, the item that just left from its event."""
        if gone is not None and gone.id == item_id:
            return gone
        known = self.items.get(item_id)
        if known is not None:
            return known.side
        return Side(item_id, "", "", "")

    def partition_of(self, need_id: str) -> int:
        need = self.items.get(need_id)
        return need.partition if need is not None else owner_partition(need_id, self.partitions)

    def changed_at(self, item_ids: Iterable[str]) -> datetime | None:
        """When the latest of these open items changed (None: none of them is open)."""
        return max((self.items[i].changed_at for i in item_ids if i in self.items), default=None)

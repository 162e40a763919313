"""Announcing transitions of pairs (README, "Order per batch of events"): write the pairs' new
states, each with the event that announces it, stamped with (instance, batch number) ->
publish the events and wait for the broker's acks -> record the batch as committed. Then the
in-memory view of the stored set follows: per owned partition, the fingerprint of every
stored found pair, which decides what is announced at all (the stored set is the arbiter).

Store operations and sends are retried until they succeed: a batch, once begun, is always
finished (a crash in between is what the next owner's take-over repairs).
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from opentelemetry import trace

from platform_common.events import Envelope, make_event, utcnow
from platform_common.events.models import MatchData, MatchSide
from platform_common.observability.tracing import tracer
from platform_common.retry import retry_forever
from services.matching.domain.pairs import (
    Side, TransitionType, fingerprint, reason_dicts, transition_for,
)
from services.matching.engine.model import Match
from services.matching.ports import EventPublisher, MatchStore
from services.matching.worker import metrics
from services.matching.worker.replica import Cause

SOURCE = "matching"
PUBLISH_CHUNK = 200
ANNOUNCE_CHUNK = 2000


@dataclass
class PairChange:
    """The newest change of a pair in a batch of events."""

    match: Match
    found: bool
    offer: Side
    need: Side
    partition: int
    cause: Cause | None


@dataclass
class Announcement:
    """One transition on its way out: the stored document and the event announcing it."""

    key: str
    partition: int
    envelope: Envelope
    doc: dict[str, Any]
    fingerprint: str | None   # None for a withdrawal
    cause: Cause | None = None

    @property
    def type(self) -> str:
        return self.envelope.type


class PublishFailed(Exception):
    """Some sends of a chunk were not acknowledged; the chunk's failed sends are tried again."""


class Announcer:
    def __init__(self, *, instance: str, store: MatchStore, producer: EventPublisher):
        self.instance = instance
        self.store, self.producer = store, producer
        self.batch_no = 0
        # Stored "found" pairs of the owned partitions: partition -> pair key -> fingerprint.
        self.stored: dict[int, dict[str, str]] = {}

    def decide(self, changes: dict[str, PairChange]) -> list[Announcement]:
        """The transitions of changed pairs whose engine state differs from the stored one."""
        announcements = []
        for key, change in changes.items():
            stored = self.stored.get(change.partition, {}).get(key)
            transition = transition_for(change.match if change.found else None, stored)
            if transition is not None:
                announcements.append(announcement(
                    transition, key=key, partition=change.partition, match=change.match,
                    offer=change.offer, need=change.need, cause=change.cause))
        return announcements

    async def announce(self, announcements: list[Announcement], *,
                       go_on: Callable[[], bool] | None = None) -> bool:
        """Announce in batches of ANNOUNCE_CHUNK. With `go_on` (a take-over), it stops before
        a batch when `go_on()` turns False (a rebalance began: the next owner reconciles the
        rest) and returns False."""
        for start in range(0, len(announcements), ANNOUNCE_CHUNK):
            if go_on is not None and not go_on():
                return False
            await self._announce_batch(announcements[start:start + ANNOUNCE_CHUNK])
        return True

    async def _announce_batch(self, announcements: list[Announcement]) -> None:
        """Write -> publish (acks) -> commit; then the in-memory view of the stored set."""
        self.batch_no += 1
        batch = {"instance": self.instance, "n": self.batch_no}
        for item in announcements:
            item.doc["batch"] = batch
            item.doc["updated_at"] = utcnow()
        new_keys = {a.key for a in announcements if a.key not in self.stored.get(a.partition, {})}
        docs = [a.doc for a in announcements]
        await retry_forever("write pair states", lambda: self.store.write(docs, new_keys=new_keys))
        # A few hundred sends in flight keep the producer's batches full; many thousands of
        # concurrent waiters on its full buffer only wake each other up.
        for start in range(0, len(announcements), PUBLISH_CHUNK):
            await self._publish_chunk(announcements[start:start + PUBLISH_CHUNK])
        batch_no = self.batch_no
        await retry_forever("commit batch", lambda: self.store.commit(self.instance, batch_no))
        now = utcnow()
        for item in announcements:
            pairs = self.stored.setdefault(item.partition, {})
            if item.fingerprint is None:
                pairs.pop(item.key, None)
            else:
                pairs[item.key] = item.fingerprint
            metrics.TRANSITIONS.labels(item.type).inc()
            if item.cause is not None:
                metrics.MATCH_LATENCY.labels(item.type).observe(
                    max(0.0, (now - item.cause.occurred_at).total_seconds()))

    async def _publish_chunk(self, announcements: list[Announcement]) -> None:
        """Publish all, then again only those that failed, until every one was acknowledged."""
        waiting = announcements

        async def publish_waiting() -> None:
            nonlocal waiting
            results = await asyncio.gather(*(self._publish(a) for a in waiting),
                                           return_exceptions=True)
            errors = [result for result in results if isinstance(result, Exception)]
            waiting = [a for a, result in zip(waiting, results) if isinstance(result, Exception)]
            if waiting:
                raise PublishFailed(f"{len(waiting)} sends failed, first: {errors[0]!r}")

        await retry_forever("publish match events", publish_waiting)

    async def _publish(self, item: Announcement) -> None:
        parent = item.cause.context() if item.cause is not None else None
        with tracer().start_as_current_span(f"announce {item.type}", context=parent,
                                            kind=trace.SpanKind.INTERNAL) as span:
            span.set_attribute("matching.pair", item.key)
            await self.producer.publish(item.envelope, key=item.key)


def announcement(transition: TransitionType, *, key: str, partition: int, match: Match,
                 offer: Side, need: Side, cause: Cause | None,
                 caused_at: datetime | None = None) -> Announcement:
    """A new transition of a pair: `caused_at` is the cause's time (without a cause, e.g. in a
    take-over, when the later of the two items changed)."""
    caused_at = cause.occurred_at if cause is not None else caused_at
    data = MatchData(offer=MatchSide(**offer.as_dict()), need=MatchSide(**need.as_dict()),
                     score=match.score, reasons=reason_dicts(match), caused_by_event_at=caused_at)
    envelope = make_event(transition, tenant=need.tenant or offer.tenant or "unknown",
                          subject=key, source=SOURCE, data=data)
    if cause is not None and cause.traceparent:
        envelope = envelope.model_copy(update={"traceparent": cause.traceparent})
    print_ = fingerprint(match) if transition == "match.found" else None
    return Announcement(key=key, partition=partition, envelope=envelope,
                        doc=pair_doc(key, partition, envelope, data, print_),
                        fingerprint=print_, cause=cause)


def pair_doc(key: str, partition: int, envelope: Envelope, data: MatchData,
             print_: str | None) -> dict[str, Any]:
    """The stored state of a pair: found (with its fingerprint) or withdrawn (None)."""
    payload = data.model_dump(mode="json")
    return {
        "_id": key,
        "offer_id": data.offer.id,
        "need_id": data.need.id,
        "need_partition": partition,
        "state": "withdrawn" if print_ is None else "found",
        "score": data.score,
        "reasons": payload["reasons"],
        "offer": payload["offer"],
        "need": payload["need"],
        "fingerprint": print_,
        "caused_by_event_at": data.caused_by_event_at,
        "event": {"id": str(envelope.id), "type": envelope.type, "tenant": envelope.tenant,
                  "occurred_at": envelope.occurred_at, "traceparent": envelope.traceparent},
    }


def _data_from_doc(doc: dict[str, Any]) -> MatchData:
    return MatchData(offer=doc["offer"], need=doc["need"], score=doc["score"],
                     reasons=doc.get("reasons", []), caused_by_event_at=doc.get("caused_by_event_at"))


def republication(doc: dict[str, Any]) -> Announcement:
    """The stored announcement of a pair, unchanged (same event id): for publishing again."""
    event = doc["event"]
    envelope = Envelope(id=uuid.UUID(event["id"]), type=event["type"], version=1,
                        tenant=event["tenant"], occurred_at=event["occurred_at"], source=SOURCE,
                        subject=doc["_id"], traceparent=event.get("traceparent"),
                        data=_data_from_doc(doc).model_dump(mode="json"))
    clean = {k: v for k, v in doc.items() if k not in ("batch", "updated_at")}
    return Announcement(key=doc["_id"], partition=doc["need_partition"], envelope=envelope,
                        doc=clean, fingerprint=doc.get("fingerprint") if doc["state"] == "found" else None)


def withdrawal(doc: dict[str, Any]) -> Announcement:
    """A new withdrawal of a stored pair the engine no longer matches."""
    data = _data_from_doc(doc).model_copy(update={"caused_by_event_at": utcnow()})
    envelope = make_event("match.withdrawn", tenant=doc["need"].get("tenant") or "unknown",
                          subject=doc["_id"], source=SOURCE, data=data)
    return Announcement(key=doc["_id"], partition=doc["need_partition"], envelope=envelope,
                        doc=pair_doc(doc["_id"], doc["need_partition"], envelope, data, None),
                        fingerprint=None)

"""Pairs of the match set: their keys, which partition owns them, and when they changed.

The stored match set is the arbiter of what was announced: a `match.found` goes out when the
engine's Match of a pair differs from the stored one (new pair, other score or explanation),
a `match.withdrawn` when a stored pair left the engine's match set. Comparing fingerprints
instead of whole Matches keeps the in-memory view of the stored set small.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from services.matching.engine.model import Match

TransitionType = Literal["match.found", "match.withdrawn"]


def pair_key(offer_id: str, need_id: str) -> str:
    """The pair's id: its document id and the key of its events."""
    return f"{offer_id}:{need_id}"


def owner_partition(need_id: str, partitions: int) -> int:
    """The `items` partition whose owner emits the pairs of this need.

    Kafka's default partitioner (murmur2 of the key): a need's own events live in the same
    partition, so the consumer group's assignment decides pairs and events alike.
    """
    return (murmur2(need_id.encode()) & 0x7FFFFFFF) % partitions


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2, as the producers'
    default partitioner uses it), unsigned 32 bit; kept here so that the domain needs no
    broker client (a unit test compares it with aiokafka's)."""
    mask = 0xFFFFFFFF
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = length & ~3
    extra = length % 4
    if extra >= 3:
        h ^= data[tail + 2] << 16
    if extra >= 2:
        h ^= data[tail + 1] << 8
    if extra >= 1:
        h ^= data[tail]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h


def fingerprint(match: Match) -> str:
    """A short stable digest of what users see of a match: score and explanation."""
    text = repr((match.score, [(r.factor, r.value, r.weight, r.contribution, r.label_de,
                                r.label_en) for r in match.reasons]))
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def transition_for(wanted: Match | None, stored_fingerprint: str | None) -> TransitionType | None:
    """What to announce for a pair: the engine wants `wanted` (None: not a match), the
    stored set holds `stored_fingerprint` (None: not a match)."""
    if wanted is not None:
        if stored_fingerprint != fingerprint(wanted):
            return "match.found"
        return None
    if stored_fingerprint is not None:
        return "match.withdrawn"
    return None


@dataclass(frozen=True)
class Side:
    """One side of a pair as events and suggestions show it."""

    id: str
    actor_id: str
    tenant: str
    title: str

    def as_dict(self) -> dict:
        return {"id": self.id, "actor_id": self.actor_id, "tenant": self.tenant, "title": self.title}


def reason_dicts(match: Match) -> list[dict]:
    return [{"factor": r.factor, "value": r.value, "weight": r.weight,
             "contribution": r.contribution, "label": {"de": r.label_de, "en": r.label_en}}
            for r in match.reasons]

"""Announcing over fakes: a batch is written, then published (every send acknowledged), then
committed; what is announced at all is decided against the stored pairs; a store or broker
that fails is tried again until the batch is out; a take-over's announcing gives way between
chunks when a rebalance begins."""
from __future__ import annotations

from datetime import datetime, timezone

from services.matching.domain.pairs import Side, fingerprint
from services.matching.engine.model import Match, Reason
from services.matching.worker import announcer as announcing
from services.matching.worker.announcer import Announcer, PairChange
from services.matching.worker.replica import Cause
from tests.unit.matching.fakes import MemoryMatchStore

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)


def match(offer_id: str, need_id: str, score: float = 0.8) -> Match:
    return Match(offer_id, need_id, score,
                 (Reason("distance", 1.0, 1.0, score, "bis 1 km entfernt", "within 1 km"),))


def change(offer_id: str, need_id: str, *, found: bool = True, score: float = 0.8,
           partition: int = 0) -> PairChange:
    return PairChange(match(offer_id, need_id, score), found,
                      Side(offer_id, f"actor-{offer_id}", "koeln", f"Angebot {offer_id}"),
                      Side(need_id, f"actor-{need_id}", "koeln", f"Gesuch {need_id}"),
                      partition, Cause(NOW, None))


class Journal:
    """What happened, in order, across the store and the broker."""

    def __init__(self):
        self.entries: list[tuple] = []


class JournalStore(MemoryMatchStore):
    def __init__(self, journal: Journal, *, failing_writes: int = 0):
        super().__init__()
        self.journal, self.failing_writes = journal, failing_writes

    async def write(self, docs, *, new_keys):
        if self.failing_writes:
            self.failing_writes -= 1
            self.journal.entries.append(("write failed",))
            raise ConnectionError("the store is away")
        await super().write(docs, new_keys=new_keys)
        self.journal.entries.append(("write", *sorted(doc["_id"] for doc in docs)))

    async def commit(self, instance, batch):
        await super().commit(instance, batch)
        self.journal.entries.append(("commit", batch))


class JournalPublisher:
    def __init__(self, journal: Journal, *, failing: set[str] = frozenset()):
        self.journal, self.failing = journal, set(failing)
        self.published = []

    async def publish(self, envelope, *, key=None) -> None:
        if key in self.failing:
            self.failing.discard(key)  # fails once
            self.journal.entries.append(("send failed", key))
            raise ConnectionError("no ack")
        self.published.append((envelope.type, key, envelope.id))
        self.journal.entries.append(("publish", key))


def announcer_with(journal: Journal, **faults) -> Announcer:
    store_faults = {k: v for k, v in faults.items() if k == "failing_writes"}
    send_faults = {k: v for k, v in faults.items() if k == "failing"}
    return Announcer(instance="worker-a", store=JournalStore(journal, **store_faults),
                     producer=JournalPublisher(journal, **send_faults))


async def test_a_batch_is_written_then_published_then_committed_and_stored_pairs_decide():
    journal = Journal()
    announcer = announcer_with(journal)
    announcements = announcer.decide({"o1:n1": change("o1", "n1"), "o2:n1": change("o2", "n1")})
    assert [(a.type, a.key) for a in announcements] == [("match.found", "o1:n1"),
                                                        ("match.found", "o2:n1")]
    await announcer.announce(announcements)

    assert journal.entries[0] == ("write", "o1:n1", "o2:n1")
    assert sorted(journal.entries[1:3]) == [("publish", "o1:n1"), ("publish", "o2:n1")]
    assert journal.entries[3:] == [("commit", 1)]
    stored = announcer.store.matches["o1:n1"]
    assert stored["state"] == "found" and stored["batch"] == {"instance": "worker-a", "n": 1}
    assert stored["event"]["id"] == str(announcements[0].envelope.id)
    assert announcer.stored == {0: {"o1:n1": fingerprint(match("o1", "n1")),
                                    "o2:n1": fingerprint(match("o2", "n1"))}}

    # The same state again says nothing new; another score and a withdrawal do.
    assert announcer.decide({"o1:n1": change("o1", "n1")}) == []
    again = announcer.decide({"o1:n1": change("o1", "n1", score=0.6),
                              "o2:n1": change("o2", "n1", found=False)})
    assert [(a.type, a.key) for a in again] == [("match.found", "o1:n1"),
                                                ("match.withdrawn", "o2:n1")]
    await announcer.announce(again)
    assert announcer.store.matches["o2:n1"]["state"] == "withdrawn"
    assert announcer.stored == {0: {"o1:n1": fingerprint(match("o1", "n1", 0.6))}}
    assert journal.entries[-1] == ("commit", 2)


async def test_failed_sends_and_writes_are_tried_again_until_the_batch_is_out():
    journal = Journal()
    announcer = announcer_with(journal, failing_writes=1, failing={"o2:n1"})
    announcements = announcer.decide({"o1:n1": change("o1", "n1"), "o2:n1": change("o2", "n1")})
    await announcer.announce(announcements)

    # The write again; then only the send that failed goes again, and the batch is committed
    # once every send was acknowledged.
    assert journal.entries == [("write failed",), ("write", "o1:n1", "o2:n1"),
                               ("publish", "o1:n1"), ("send failed", "o2:n1"),
                               ("publish", "o2:n1"), ("commit", 1)]
    assert announcer.stored[0].keys() == {"o1:n1", "o2:n1"}


async def test_a_take_over_gives_way_between_chunks_when_a_rebalance_begins(monkeypatch):
    monkeypatch.setattr(announcing, "ANNOUNCE_CHUNK", 2)
    journal = Journal()
    announcer = announcer_with(journal)
    announcements = announcer.decide({f"o{n}:n1": change(f"o{n}", "n1") for n in range(5)})
    answers = iter([True, False])

    assert await announcer.announce(announcements, go_on=lambda: next(answers)) is False
    assert [entry for entry in journal.entries if entry[0] != "publish"] == [
        ("write", "o0:n1", "o1:n1"), ("commit", 1)]
    assert set(announcer.store.matches) == {"o0:n1", "o1:n1"}

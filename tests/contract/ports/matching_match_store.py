"""The contract of matching's match set port (services/matching/ports.py: MatchStore).

What the worker and the API rely on: a write stores pair documents by `_id` (a pair stored
again, new or not, is replaced), the API lists an item's found pairs best first (ties by pair
key) and all pairs of some items for the export, the takeover reads the found fingerprints
per partition, the partition owners and the pairs of batches not committed yet, and an erased
actor's titles can be forgotten. `get_many` promises no order.

A concrete subclass provides the `store` fixture: an empty store.
"""
from __future__ import annotations

import uuid

from tests.unit.matching.fakes import pair_doc


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class MatchStoreContract:
    async def test_written_pairs_come_back_by_key(self, store):
        offer, need = unique("o"), unique("n")
        doc = pair_doc(offer, need, score=0.7)
        await store.write([doc], new_keys={doc["_id"]})
        stored, = await store.get_many([doc["_id"], unique("missing")])
        assert stored["_id"] == doc["_id"] and stored["score"] == 0.7
        assert stored["offer"] == doc["offer"] and stored["reasons"] == doc["reasons"]

    async def test_a_pair_written_again_is_replaced_even_when_taken_for_new(self, store):
        offer, need = unique("o"), unique("n")
        await store.write([pair_doc(offer, need, score=0.4)], new_keys={f"{offer}:{need}"})
        again = pair_doc(offer, need, score=0.9)
        await store.write([again], new_keys={again["_id"]})  # found again after a withdrawal
        stored, = await store.get_many([again["_id"]])
        assert stored["score"] == 0.9
        await store.write([pair_doc(offer, need, state="withdrawn")], new_keys=set())
        stored, = await store.get_many([again["_id"]])
        assert stored["state"] == "withdrawn"

    async def test_an_items_found_pairs_best_first_ties_by_key_within_the_limit(self, store):
        offer = unique("o")
        needs = sorted(unique("n") for _ in range(4))
        docs = [pair_doc(offer, needs[0], score=0.5), pair_doc(offer, needs[1], score=0.9),
                pair_doc(offer, needs[2], score=0.5), pair_doc(offer, needs[3], state="withdrawn")]
        await store.write(docs, new_keys={d["_id"] for d in docs})
        found = await store.matches_of(kind="offer", item_id=offer, limit=10)
        assert [d["need_id"] for d in found] == [needs[1], needs[0], needs[2]]
        assert [d["need_id"] for d in await store.matches_of(kind="offer", item_id=offer,
                                                             limit=2)] == [needs[1], needs[0]]
        assert [d["offer_id"] for d in await store.matches_of(kind="need", item_id=needs[1],
                                                              limit=10)] == [offer]
        assert await store.matches_of(kind="need", item_id=needs[3], limit=10) == []

    async def test_the_export_lists_found_and_withdrawn_pairs_of_the_items_once_by_key(self, store):
        offer, need, other = unique("o"), unique("n"), unique("n")
        docs = [pair_doc(offer, need), pair_doc(offer, other, state="withdrawn"),
                pair_doc(unique("o"), unique("n"))]
        await store.write(docs, new_keys={d["_id"] for d in docs})
        pairs = await store.pairs_of(offer_ids=[offer], need_ids=[need])
        assert [d["_id"] for d in pairs] == sorted([f"{offer}:{need}", f"{offer}:{other}"])
        assert {d["state"] for d in pairs} == {"found", "withdrawn"}
        assert await store.pairs_of(offer_ids=[], need_ids=[]) == []

    async def test_found_fingerprints_per_partition(self, store):
        partition = 1000 + uuid.uuid4().int % 100000  # a partition no other test writes
        found = pair_doc(unique("o"), unique("n"), score=0.3, partition=partition)
        gone = pair_doc(unique("o"), unique("n"), state="withdrawn", partition=partition)
        elsewhere = pair_doc(unique("o"), unique("n"), partition=partition + 1)
        await store.write([found, gone, elsewhere], new_keys={found["_id"], gone["_id"],
                                                              elsewhere["_id"]})
        assert await store.found_fingerprints([partition]) == {
            partition: {found["_id"]: found["fingerprint"]}}
        # Several partitions at once (the take-over): each with its own pairs, none empty-handed.
        assert await store.found_fingerprints([partition + 2, partition + 1, partition]) == {
            partition: {found["_id"]: found["fingerprint"]},
            partition + 1: {elsewhere["_id"]: elsewhere["fingerprint"]}, partition + 2: {}}

    async def test_partition_owners_are_the_last_taker(self, store):
        first, second = unique("worker"), unique("worker")
        partitions = [2000 + uuid.uuid4().int % 100000 + i for i in range(2)]
        await store.take_ownership(first, partitions)
        await store.take_ownership(second, partitions[1:])
        assert await store.owners(partitions) == {partitions[0]: first, partitions[1]: second}

    async def test_every_take_leaves_a_new_owner_record(self, store):
        first, second = unique("worker"), unique("worker")
        partition = 4000 + uuid.uuid4().int % 100000
        await store.take_ownership(first, [partition])
        taken = await store.owner_records([partition, partition + 1])
        assert list(taken) == [partition] and taken[partition][0] == first
        assert await store.owner_records([partition]) == taken  # reading changes nothing
        await store.take_ownership(second, [partition])
        await store.take_ownership(first, [partition])  # taken back: a record of its own
        again = await store.owner_records([partition])
        assert again[partition][0] == first and again[partition] != taken[partition]

    async def test_pairs_written_after_a_batch_of_an_instance(self, store):
        instance, other = unique("worker"), unique("worker")
        partition = 5000 + uuid.uuid4().int % 100000
        before = pair_doc(unique("o"), unique("n"), partition=partition, batch=(instance, 3))
        after = pair_doc(unique("o"), unique("n"), partition=partition, batch=(instance, 4))
        by_other = pair_doc(unique("o"), unique("n"), partition=partition, batch=(other, 9))
        elsewhere = pair_doc(unique("o"), unique("n"), partition=partition + 1, batch=(instance, 7))
        docs = [before, after, by_other, elsewhere]
        await store.write(docs, new_keys={d["_id"] for d in docs})
        written = await store.written_after(partition, instance, 3)
        assert [d["_id"] for d in written] == [after["_id"]]
        assert written[0]["state"] == "found" and written[0]["fingerprint"] == after["fingerprint"]

    async def test_only_pairs_of_batches_not_committed_are_unfinished(self, store):
        instance = unique("worker")
        partition = 3000 + uuid.uuid4().int % 100000
        await store.register_instance(instance)
        done = pair_doc(unique("o"), unique("n"), partition=partition, batch=(instance, 1))
        open_ = pair_doc(unique("o"), unique("n"), partition=partition, batch=(instance, 2))
        unknown = pair_doc(unique("o"), unique("n"), partition=partition,
                           batch=(unique("gone"), 5))
        await store.write([done, open_, unknown], new_keys={done["_id"], open_["_id"],
                                                            unknown["_id"]})
        await store.commit(instance, 1)
        unfinished = await store.uncommitted([partition], partition_count=6)
        assert [d["_id"] for d in unfinished] == [open_["_id"]]
        await store.commit(instance, 2)
        assert await store.uncommitted([partition], partition_count=6) == []

    async def test_an_erased_actors_titles_are_forgotten(self, store):
        offer, need = unique("o"), unique("n")
        other = pair_doc(unique("o"), need)
        docs = [pair_doc(offer, need), other]
        await store.write(docs, new_keys={d["_id"] for d in docs})
        await store.forget_titles([offer])
        stored = {doc["_id"]: doc for doc in await store.get_many([docs[0]["_id"], other["_id"]])}
        erased, kept = stored[docs[0]["_id"]], stored[other["_id"]]
        assert erased["offer"]["title"] == "" and erased["need"]["title"] == f"Gesuch {need}"
        assert kept["offer"]["title"] == other["offer"]["title"]

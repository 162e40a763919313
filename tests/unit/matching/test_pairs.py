"""The owner partition of a pair is the partition Kafka's default partitioner gives its need."""
from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner, murmur2 as kafka_murmur2

from services.matching.domain.pairs import murmur2, owner_partition


def test_murmur2_is_kafkas():
    rng = random.Random(14)
    samples = [b"", b"a", b"ab", b"abc", b"abcd", "Köln-Straße".encode()] + [
        bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 64))) for _ in range(3000)]
    for data in samples:
        assert murmur2(data) == kafka_murmur2(data), data


def test_a_needs_pairs_belong_to_the_partition_its_events_go_to():
    rng = random.Random(7)
    for partitions in (1, 6, 12, 31):
        every = list(range(partitions))
        for _ in range(500):
            need_id = f"{rng.getrandbits(128):032x}"
            key = need_id.encode()
            assert owner_partition(need_id, partitions) == DefaultPartitioner()(key, every, every)

"""Counters with an expiry in Redis (the rate limit windows)."""
from __future__ import annotations

from redis.asyncio import Redis


class RedisWindowCounter:
    def __init__(self, redis: Redis):
        self._redis = redis

    async def increment_many(self, increments: dict[str, tuple[int, int]]) -> dict[str, int]:
        if not increments:
            return {}
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, (by, ttl_s) in increments.items():
                pipe.incrby(key, by)
                pipe.expire(key, ttl_s, nx=True)
            results = await pipe.execute()
        return {key: int(count) for key, count in zip(increments, results[::2])}

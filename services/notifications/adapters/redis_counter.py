"""Counters with an expiry in Redis (the rate limit windows)."""
from __future__ import annotations

from redis.asyncio import Redis


class RedisWindowCounter:
    def __init__(self, redis: Redis):
        self._redis = redis

    async def increment(self, key: str, *, ttl_s: int) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, ttl_s, nx=True)
            count, _ = await pipe.execute()
        return int(count)

"""Rate-limit counters in Redis (INCR + EXPIRE in one round trip)."""
from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.ports import CounterStoreUnavailable
from platform_common.stores import redis_tls_options


def rate_limit_redis(url: str, timeout_s: float, *, password=None,
                     ca_file: str | None = None) -> Redis:
    # Short timeouts and no retries: the limiter fails open rather than slowing every request.
    return Redis.from_url(url, decode_responses=True, socket_timeout=timeout_s,
                          socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0),
                          **redis_tls_options(url, password=password, ca_file=ca_file))


class RedisCounterStore:
    def __init__(self, client: Redis):
        self._client = client

    async def increment(self, key: str, expire_s: int) -> int:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, expire_s, nx=True)
                count, _ = await pipe.execute()
            return int(count)
        except (RedisError, OSError) as error:
            raise CounterStoreUnavailable(str(error)) from error

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()

"""The composition root: every adapter the gateway uses, built from settings in one place."""
from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.adapters.jwks import JwksTokenVerifier
from gateway.adapters.redis_counters import RedisCounterStore, rate_limit_redis
from gateway.adapters.upstreams import Upstreams
from gateway.domain.auth import DevTokenVerifier, TokenVerifier
from gateway.domain.rate_limit import RateLimiter
from gateway.service import OpenApiCache
from gateway.settings import GatewaySettings
from platform_common.service_identity import ServiceKeys


@dataclass
class Components:
    settings: GatewaySettings
    upstreams: Upstreams
    verifier: TokenVerifier
    redis: Redis
    counters: RedisCounterStore
    limiter: RateLimiter
    openapi: OpenApiCache

    async def close(self) -> None:
        await self.upstreams.close()
        await self.counters.close()


def token_verifier(settings: GatewaySettings) -> TokenVerifier:
    if settings.auth_mode == "jwks":
        return JwksTokenVerifier(jwks_url=settings.jwt_jwks_url, issuer=settings.jwt_issuer,
                                 audience=settings.jwt_audience, leeway_s=settings.jwt_leeway_s,
                                 cache_s=settings.jwt_jwks_cache_s,
                                 refresh_cooldown_s=settings.jwt_jwks_refresh_cooldown_s,
                                 timeout_s=settings.upstream_connect_timeout_s + 3)
    return DevTokenVerifier(secret=settings.jwt_dev_secret.get_secret_value(),
                            leeway_s=settings.jwt_leeway_s)


def build(settings: GatewaySettings) -> Components:
    upstreams = Upstreams(settings.upstream_urls, keys=ServiceKeys.from_settings(settings),
                          connect_timeout_s=settings.upstream_connect_timeout_s,
                          timeout_s=settings.upstream_timeout_s)
    redis = rate_limit_redis(settings.redis_url, settings.rate_limit_redis_timeout_s,
                             password=settings.redis_password, ca_file=settings.redis_ca_file)
    counters = RedisCounterStore(redis)
    limiter = RateLimiter(counters, clock=time.time,
                          store_backoff_s=settings.rate_limit_redis_backoff_s)
    return Components(settings=settings, upstreams=upstreams, verifier=token_verifier(settings),
                      redis=redis, counters=counters, limiter=limiter,
                      openapi=OpenApiCache(upstreams=upstreams, max_age_s=settings.openapi_cache_s))

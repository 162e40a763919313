"""The composition root: the gateway process and every adapter it uses, built from settings."""
from __future__ import annotations

import time

from gateway.adapters.geocoders import build_geocoder
from gateway.adapters.jwks import JwksTokenVerifier
from gateway.adapters.redis_counters import RedisCounterStore, rate_limit_redis
from gateway.adapters.tokens import DevTokens
from gateway.adapters.upstreams import HttpUpstreams
from gateway.ports import TokenVerifier
from gateway.service import OpenApiCache, RateLimiter
from gateway.settings import GatewaySettings
from platform_common.lifecycle import ReadinessCheck
from platform_common.observability import get_logger
from platform_common.service_identity import ServiceKeys

log = get_logger(__name__)


class GatewayProcess:
    """The gateway process: verifies tokens, counts rate limits, forwards to the services,
    serves the merged docs, the places search and the web UI.

    Its readiness is its own (no checks): with a store or a service down it still serves the
    web UI, the docs and every route that does not need it (a clear 503 names the missing one;
    rate limits fail open without Redis). `dependency_checks` are only reported, in /readyz
    and the metrics."""

    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self.readiness_checks: dict[str, ReadinessCheck] = {}
        self.upstreams = HttpUpstreams(settings.upstream_urls,
                                       keys=ServiceKeys.from_settings(settings),
                                       connect_timeout_s=settings.upstream_connect_timeout_s,
                                       timeout_s=settings.upstream_timeout_s)
        self.counters = RedisCounterStore(rate_limit_redis(
            settings.redis_url, settings.rate_limit_redis_timeout_s,
            password=settings.redis_password, ca_file=settings.redis_ca_file))
        self.limiter = RateLimiter(self.counters, clock=time.time,
                                   store_backoff_s=settings.rate_limit_redis_backoff_s)
        # Dev mode only: signs the tokens of /auth/dev-token and verifies them.
        self.dev_tokens = (DevTokens(secret=settings.jwt_dev_secret.get_secret_value(),
                                     leeway_s=settings.jwt_leeway_s)
                           if settings.auth_mode == "dev" else None)
        self.verifier: TokenVerifier = self.dev_tokens or JwksTokenVerifier(
            jwks_url=settings.jwt_jwks_url, issuer=settings.jwt_issuer,
            audience=settings.jwt_audience, leeway_s=settings.jwt_leeway_s,
            cache_s=settings.jwt_jwks_cache_s,
            refresh_cooldown_s=settings.jwt_jwks_refresh_cooldown_s,
            timeout_s=settings.upstream_connect_timeout_s + 3)
        self.openapi = OpenApiCache(upstreams=self.upstreams, max_age_s=settings.openapi_cache_s)
        # Cheap to build: the offline gazetteer reads its places on the first search.
        self.geocoder = build_geocoder(settings)
        self.dependency_checks: dict[str, ReadinessCheck] = {
            "redis": self.counters.ping,
            **{name: self._alive(name) for name in settings.upstream_urls}}

    def _alive(self, service: str) -> ReadinessCheck:
        async def check():
            await self.upstreams.check_alive(service)
        return check

    async def start(self) -> None:
        log.info("gateway_starting", auth_mode=self.settings.auth_mode,
                 upstreams=self.settings.upstream_urls)

    async def stop(self) -> None:
        await self.upstreams.close()
        await self.counters.close()
        await self.geocoder.close()


def build_gateway(settings: GatewaySettings) -> GatewayProcess:
    return GatewayProcess(settings)

"""Gateway configuration from environment variables, validated at start."""
from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator

from platform_common.settings import CommonSettings, RedisSettings

# Only for dev and test. At least 32 bytes, as HS256 wants. Refused in production.
DEFAULT_DEV_JWT_SECRET = "engage-dev-secret-only-for-local-use-0123456789"


class GatewaySettings(CommonSettings, RedisSettings):
    service_name: str = "gateway"
    signs_service_calls: ClassVar[bool] = True  # signs the identity it forwards
    port: int = Field(8080, ge=1, le=65535)

    profiles_url: str = "http://127.0.0.1:8081"
    search_url: str = "http://127.0.0.1:8082"
    matching_url: str = "http://127.0.0.1:8083"
    notifications_url: str = "http://127.0.0.1:8084"
    upstream_connect_timeout_s: float = Field(2.0, gt=0)
    # Upper bound for one whole call to a service, so a slow service never hangs a client.
    upstream_timeout_s: float = Field(10.0, gt=0)

    # dev: HS256 tokens signed with JWT_DEV_SECRET, and POST /api/v1/auth/dev-token exists.
    # jwks: RS256 tokens of the identity provider, keys from JWT_JWKS_URL.
    auth_mode: Literal["dev", "jwks"] = "dev"
    jwt_dev_secret: SecretStr = SecretStr(DEFAULT_DEV_JWT_SECRET)
    # At most a day: the gateway refuses dev tokens that live longer (gateway/domain/auth.py).
    jwt_dev_token_ttl_s: int = Field(8 * 3600, ge=60, le=24 * 3600)
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_s: int = Field(30, ge=0, le=300)
    jwt_jwks_cache_s: int = Field(300, ge=10)
    # A token naming an unknown key id refetches the key set (key rotation), at most this often.
    jwt_jwks_refresh_cooldown_s: float = Field(30.0, ge=0)

    # Per identity (or per client IP when anonymous), per minute. When Redis does not answer
    # the gateway lets requests through (availability over strictness) and logs a warning.
    rate_limit_per_minute: int = Field(600, ge=1)
    rate_limit_writes_per_minute: int = Field(120, ge=1)
    rate_limit_redis_timeout_s: float = Field(0.5, gt=0)
    # After Redis failed, skip it this long instead of paying its timeout on every request.
    rate_limit_redis_backoff_s: float = Field(5.0, ge=0)

    max_body_bytes: int = Field(256 * 1024, ge=1024)
    # Origins allowed to call the API from a browser, comma separated (the web UI served by
    # the gateway itself is same-origin and needs none).
    cors_origins: str = ""
    openapi_cache_s: float = Field(60.0, ge=0)

    # GET /api/v1/places: offline (the bundled NRW gazetteer) or photon (a Photon service at
    # GEOCODER_URL, e.g. the operator's own).
    geocoder: Literal["offline", "photon"] = "offline"
    geocoder_url: str | None = None
    geocoder_timeout_s: float = Field(3.0, gt=0, le=30)
    # Map tiles of the web UI, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty: the
    # map shows markers and the radius without a background. Its origin joins the CSP img-src.
    map_tile_url: str = ""

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def map_tile_origin(self) -> str | None:
        """`https://tile.example.org` (or `https://*.example.org` for `{s}` subdomains) of
        MAP_TILE_URL, for the Content-Security-Policy; None when no tiles are configured."""
        match = re.match(r"^(https?)://([^/?#]+)", self.map_tile_url.strip())
        if not match:
            return None
        host = re.sub(r"^\{s\}\.", "*.", match.group(2))
        return f"{match.group(1)}://{host}"

    @property
    def upstream_urls(self) -> dict[str, str]:
        return {"profiles": self.profiles_url, "search": self.search_url,
                "matching": self.matching_url, "notifications": self.notifications_url}

    @model_validator(mode="after")
    def _safe_auth(self) -> "GatewaySettings":
        if self.environment == "production":
            if self.auth_mode == "dev":
                raise ValueError("AUTH_MODE=dev is not allowed in production: use AUTH_MODE=jwks")
        # Only dev mode signs and checks tokens with this secret (jwks mode never reads it).
        if self.auth_mode == "dev" and len(self.jwt_dev_secret.get_secret_value()) < 32:
            raise ValueError("JWT_DEV_SECRET must be at least 32 characters long")
        tiles = self.map_tile_url.strip()
        if tiles and (not self.map_tile_origin or "{" in self.map_tile_origin or "{z}" not in tiles or "{x}" not in tiles
                      or "{y}" not in tiles or any(c in tiles for c in " ;'\"")):
            raise ValueError("MAP_TILE_URL must be an http(s) URL template with {z}, {x} and {y}, "
                             "e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png")
        if self.auth_mode == "jwks":
            missing = [name for name, value in (("JWT_JWKS_URL", self.jwt_jwks_url),
                                                ("JWT_ISSUER", self.jwt_issuer),
                                                ("JWT_AUDIENCE", self.jwt_audience)) if not value]
            if missing:
                raise ValueError(f"AUTH_MODE=jwks needs {', '.join(missing)}")
        if self.geocoder == "photon" and not (self.geocoder_url or "").startswith(
                ("http://", "https://")):
            raise ValueError("GEOCODER=photon needs GEOCODER_URL (http or https)")
        return self

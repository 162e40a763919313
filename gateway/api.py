"""The public HTTP API: /api/v1 routes (own and forwarded), the merged docs and the web UI."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field

from gateway import service
from gateway.adapters.personas import dev_personas
from gateway.bootstrap import GatewayProcess
from gateway.domain.access import SIGNED_IN, Access, access_problem
from gateway.domain.auth import SUB_PATTERN, TENANT_PATTERN, InvalidToken, bearer_token
from gateway.domain.places import MAX_QUERY
from gateway.domain.rate_limit import caller_key, limits_for, rate_limit_headers
from gateway.domain.routes import API_PREFIX, PROXY_ROUTES, ProxyRoute
from gateway.openapi import BEARER
from gateway.ports import GeocoderUnavailable, KeysUnavailable
from platform_common import vocabulary
from platform_common.http import ApiError, current_process
from platform_common.http.json_body import StrictJsonRoute
from platform_common.identity import Identity
from platform_common.observability import get_logger

log = get_logger(__name__)
WEB_DIR = Path(__file__).parent / "web"
BODY_METHODS = {"POST", "PUT", "PATCH"}
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# No query of the API comes near this (a search with every filter is under 3 KiB); the services'
# HTTP client refuses queries over 64 KiB, which used to surface as a 500.
MAX_QUERY_BYTES = 8 * 1024
# Optimistic concurrency: profiles takes the expected version from If-Match.
PRECONDITION_HEADERS = ("if-match", "if-none-match")

RATE_LIMITED = Counter("gateway_rate_limited_total", "Requests refused by a rate limit",
                       ["bucket"])
RATE_LIMIT_FAIL_OPEN = Counter("gateway_rate_limit_fail_open_total",
                               "Requests let through unchecked because Redis did not answer")


class GatewayError(ApiError):
    """An ApiError that also sets response headers (Retry-After, WWW-Authenticate)."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str],
                 details=None):
        super().__init__(status, code, message, details)
        self.headers = headers


@dataclass(frozen=True)
class Caller:
    identity: Identity | None


Gateway = Annotated[GatewayProcess, Depends(current_process)]


async def gate(request: Request, gateway: Gateway) -> Caller:
    """Once per request: the query and body size, who is calling (from the bearer token), the
    rate limits.

    An invalid token is reported only after the rate limit, so token guessing is limited too.
    """
    if len(request.scope.get("query_string", b"")) > MAX_QUERY_BYTES:
        raise ApiError(414, "uri_too_long",
                       f"The query string is longer than {MAX_QUERY_BYTES // 1024} KiB.")
    declared_length = request.headers.get("content-length", "")
    if declared_length.isdigit() and int(declared_length) > gateway.settings.max_body_bytes:
        raise body_too_large(gateway.settings.max_body_bytes)
    identity, token_problem = await resolve_identity(request, gateway)
    await enforce_rate_limits(request, gateway, identity)
    if token_problem is not None:
        raise GatewayError(401, "invalid_token", f"The access token was refused: {token_problem}",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return Caller(identity)


async def resolve_identity(request: Request, gateway: GatewayProcess
                           ) -> tuple[Identity | None, str | None]:
    """The verified identity, or why the presented token was refused (None, None: no token)."""
    try:
        token = bearer_token(request.headers.get("authorization"))
        return (await gateway.verifier.verify(token) if token else None), None
    except InvalidToken as problem:
        return None, str(problem)
    except KeysUnavailable as error:
        log.warning("identity_provider_keys_unavailable", error=str(error))
        raise ApiError(503, "service_unavailable",
                       "The identity provider's keys cannot be fetched right now.") from None


async def enforce_rate_limits(request: Request, gateway: GatewayProcess,
                              identity: Identity | None) -> None:
    settings = gateway.settings
    caller = caller_key(sub=identity.sub if identity else None,
                        tenant=identity.tenant if identity else None,
                        client_ip=request.client.host if request.client else None)
    decision = await gateway.limiter.check(
        caller, limits_for(request.method, per_minute=settings.rate_limit_per_minute,
                           writes_per_minute=settings.rate_limit_writes_per_minute))
    # RateLimitHeaders (gateway/app.py) puts them on whatever the route answers.
    request.state.rate_limit_headers = rate_limit_headers(decision)
    if decision.degraded:
        RATE_LIMIT_FAIL_OPEN.inc()
        if decision.store_error:  # once per back-off period, not per request
            log.warning("rate_limit_fail_open", error=decision.store_error,
                        backoff_s=settings.rate_limit_redis_backoff_s)
    if not decision.allowed:
        RATE_LIMITED.labels(decision.bucket).inc()
        raise GatewayError(429, "rate_limited",
                           f"Too many requests: at most {decision.limit} per minute "
                           f"({decision.bucket}). Try again in {decision.retry_after_s} s.",
                           headers={"Retry-After": str(decision.retry_after_s)},
                           details={"limit": decision.limit, "bucket": decision.bucket,
                                    "retry_after_s": decision.retry_after_s})


def body_too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large",
                    f"The request body is larger than {limit // 1024} KiB.")


def require(access: Access, caller: Caller) -> Identity | None:
    problem = access_problem(access, caller.identity)
    if problem == "unauthenticated":
        raise GatewayError(401, "unauthorized", "This needs a sign-in: send a bearer token.",
                           headers={"WWW-Authenticate": "Bearer"})
    if problem == "forbidden":
        raise ApiError(403, "forbidden",
                       f"This needs one of these roles: {', '.join(sorted(access.roles))}.")
    return caller.identity


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read in chunks: a body without Content-Length cannot exceed the limit either."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise body_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def request_id(request: Request) -> str:
    """The request's id as the services should log it; odd ids from clients are replaced."""
    given = getattr(request.state, "request_id", None) or ""
    return given if REQUEST_ID_PATTERN.match(given) else uuid.uuid4().hex


def proxy_endpoint(route: ProxyRoute):
    async def endpoint(request: Request, gateway: Gateway,
                       caller: Caller = Depends(gate)) -> Response:
        identity = require(route.access, caller)
        body = b""
        if route.method in BODY_METHODS and route.body == "json":
            body = await read_body(request, gateway.settings.max_body_bytes)
        query = request.url.query
        if route.csv and "text/csv" in request.headers.get("accept", "") \
                and "format" not in request.query_params:
            query = f"{query}&format=csv" if query else "format=csv"
        answer = await service.forward(
            upstreams=gateway.upstreams, route=route,
            path_params=dict(request.path_params), query=query, body=body,
            identity=identity, request_id=request_id(request),
            language=request.headers.get("accept-language"),
            preconditions={name: request.headers[name] for name in PRECONDITION_HEADERS
                           if name in request.headers})
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    endpoint.__name__ = route.name
    return endpoint


# ---- the gateway's own routes --------------------------------------------------------------

class Label(BaseModel):
    de: str
    en: str


class VocabularyEntry(BaseModel):
    id: str
    label: Label


# platform_common.identity.ROLES, spelled out so OpenAPI lists them (a unit test keeps them equal).
RoleName = Literal["member", "org_admin", "tenant_admin", "operator"]


class DevTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sub: str = Field(pattern=SUB_PATTERN.pattern, examples=["demo-user"])
    tenant: str = Field(pattern=TENANT_PATTERN.pattern, examples=["koeln"])
    roles: list[RoleName] = Field(default_factory=lambda: ["member"])


class ClientConfig(BaseModel):
    auth_mode: Literal["dev", "jwks"]
    dev_login: bool
    map_tile_url: str = Field("", description="Leaflet tile URL template; empty: no map tiles")


class DevTokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class PlaceView(BaseModel):
    name: str
    district: str | None
    lat: float
    lon: float
    postcode: str | None


class PlaceList(BaseModel):
    items: list[PlaceView]


class Persona(BaseModel):
    sub: str
    tenant: str
    roles: list[RoleName]
    label: Label
    actor_id: str | None
    kind: Literal["volunteer", "association", "company", "tenant_admin", "operator"]


class PersonaList(BaseModel):
    items: list[Persona]


class PersonalDataExport(BaseModel):
    """GET /me/export: each service's part under its name (profiles, notifications, ...)."""

    model_config = ConfigDict(extra="allow")
    subject: str
    tenant: str
    exported_at: datetime
    profiles: dict | None
    notifications: dict | None


PUBLIC_DOC = {"security": []}
SIGNED_IN_DOC = {"security": [{BEARER: []}]}
VOCABULARIES = {
    "categories": (vocabulary.CATEGORIES, "Fields of engagement (Handlungsfelder)"),
    "requirements": (vocabulary.REQUIREMENTS, "What a need may ask of a helper"),
    "engagement-types": (vocabulary.ENGAGEMENT_TYPES, "Spontaneous, regular or project"),
    "actor-types": (vocabulary.ACTOR_TYPES, "Kinds of actors"),
    "visibilities": (vocabulary.VISIBILITIES, "Who may see an offer or need"),
}


def vocabulary_endpoint(entries: dict):
    listed = vocabulary.as_list(entries)

    async def endpoint() -> list[VocabularyEntry]:
        return listed

    return endpoint


def api_router(dev_mode: bool) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(gate)],
                       route_class=StrictJsonRoute)

    for name, (entries, summary) in VOCABULARIES.items():
        router.add_api_route(f"/{name}", vocabulary_endpoint(entries), methods=["GET"],
                             summary=summary, tags=["vocabularies"],
                             response_model=list[VocabularyEntry], openapi_extra=PUBLIC_DOC,
                             name=f"vocabulary_{name.replace('-', '_')}")

    @router.get("/client-config", response_model=ClientConfig, tags=["auth"],
                summary="What a web client needs to know to sign in", openapi_extra=PUBLIC_DOC)
    async def client_config(gateway: Gateway) -> dict:
        settings = gateway.settings
        mode = settings.auth_mode
        return {"auth_mode": mode, "dev_login": mode == "dev",
                "map_tile_url": settings.map_tile_url.strip()}

    if dev_mode:
        @router.post("/auth/dev-token", response_model=DevTokenResponse, tags=["auth"],
                     summary="A signed token for any identity (dev mode only)",
                     openapi_extra=PUBLIC_DOC)
        async def create_dev_token(body: DevTokenRequest, gateway: Gateway) -> dict:
            return service.dev_token(issuer=gateway.dev_tokens, sub=body.sub,
                                     tenant=body.tenant, roles=list(body.roles),
                                     ttl_s=gateway.settings.jwt_dev_token_ttl_s)

        @router.get("/auth/personas", response_model=PersonaList, tags=["auth"],
                    summary="Demo personas to sign in as with /auth/dev-token (dev mode only)",
                    openapi_extra=PUBLIC_DOC)
        async def list_personas(request: Request, gateway: Gateway) -> dict:
            return {"items": await dev_personas(
                gateway.upstreams,
                headers=service.upstream_headers(request_id=request_id(request),
                                                 language=None, has_body=False))}

    @router.get("/places", response_model=PlaceList, tags=["places"], openapi_extra=PUBLIC_DOC,
                summary="Places in North Rhine-Westphalia by name (prefix, accents ignored), "
                        "best first; a 5-digit postcode where the geocoder knows postcodes")
    async def find_places(gateway: Gateway,
                          q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
                          limit: Annotated[int, Query(ge=1, le=20)] = 8) -> dict:
        try:
            found = await gateway.geocoder.places(q, limit=limit)
        except GeocoderUnavailable as error:
            log.warning("geocoder_unavailable", error=str(error))
            raise GatewayError(503, "service_unavailable",
                               "The place search is not available right now; try again shortly.",
                               headers={"Retry-After": "5"}, details={"service": "geocoder"})
        return {"items": [place.view() for place in found]}

    @router.get("/me/export", tags=["me"], openapi_extra=SIGNED_IN_DOC,
                summary="Everything stored about me, from every service, as one JSON document",
                responses={200: {"model": PersonalDataExport}})
    async def export_me(request: Request, gateway: Gateway,
                        caller: Caller = Depends(gate)) -> dict:
        identity = require(SIGNED_IN, caller)
        return await service.export_personal_data(
            upstreams=gateway.upstreams, identity=identity,
            request_id=request_id(request))

    for route in PROXY_ROUTES:
        router.add_api_route(route.path, proxy_endpoint(route), methods=[route.method],
                             name=route.name, include_in_schema=False)
    return router


def docs_router() -> APIRouter:
    router = APIRouter()

    @router.get("/api/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request, gateway: Gateway) -> JSONResponse:
        app: FastAPI = request.app
        document = await gateway.openapi.document(
            own=app.openapi(), title="Engagement platform API", version=app.version,
            description="Offers and needs of volunteers, associations, initiatives, education "
                        "and companies; radius search; explained matches. Errors are "
                        '`{"error": {"code", "message", "details"}}`.')
        return JSONResponse(document)

    @router.get("/api/docs", include_in_schema=False)
    async def swagger_ui() -> Response:
        return get_swagger_ui_html(openapi_url="/api/openapi.json",
                                   title="Engagement platform API",
                                   swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/api/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/api/docs/assets/favicon-32x32.png")

    @router.get("/", include_in_schema=False)
    async def web_ui() -> FileResponse:
        # No caching of the shell: a new release's module URLs are picked up at once.
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @router.get("/embed/needs", include_in_schema=False)
    async def needs_widget() -> FileResponse:
        """A municipality's current needs for its own website (in an iframe; the page reads
        `tenant`, `lang` and `limit` from its query string)."""
        return FileResponse(WEB_DIR / "embed" / "needs.html", headers={"Cache-Control": "no-cache"})

    return router


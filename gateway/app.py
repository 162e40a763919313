"""The gateway application: its process (gateway/bootstrap.py), routes, docs, web UI and the
HTTP pieces around them (error handlers with headers, security headers, CORS)."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from prometheus_client import Counter
from swagger_ui_bundle import swagger_ui_path

from gateway.api import WEB_DIR, GatewayError, api_router, docs_router
from gateway.bootstrap import build_gateway
from gateway.ports import ServiceUnavailable
from gateway.service import UpstreamFailure
from gateway.settings import GatewaySettings
from platform_common.http import REQUEST_ID_HEADER, create_process_app, error_body
from platform_common.observability import get_logger

log = get_logger(__name__)
UPSTREAM_UNAVAILABLE = Counter("gateway_upstream_unavailable_total",
                               "Requests answered 503 because a service was down or too slow",
                               ["upstream"])
# How soon a client may retry after a 503 from a service that is down.
RETRY_AFTER_UNAVAILABLE_S = "5"


def install_gateway_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _with_headers(_request: Request, exc: GatewayError):
        return JSONResponse(error_body(exc.code, exc.message, exc.details),
                            status_code=exc.status, headers=exc.headers)

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(request: Request, exc: ServiceUnavailable):
        UPSTREAM_UNAVAILABLE.labels(exc.service).inc()
        log.warning("upstream_unavailable", upstream=exc.service, reason=exc.reason,
                    path=request.url.path)
        return JSONResponse(
            error_body("service_unavailable",
                       f"The {exc.service} service is not available right now ({exc.reason}). "
                       "Please try again shortly.", {"service": exc.service}),
            status_code=503, headers={"Retry-After": RETRY_AFTER_UNAVAILABLE_S})

    @app.exception_handler(UpstreamFailure)
    async def _passed_through(_request: Request, exc: UpstreamFailure):
        return Response(exc.response.body, status_code=exc.response.status,
                        headers=exc.response.headers)


# The only npm files the browser may load: public URL prefix -> folder in gateway/web/node_modules.
VENDOR_MOUNTS = {"lit-html": "lit-html", "leaflet": "leaflet/dist"}
# Folders and files of gateway/web that are not part of the web UI.
NOT_SERVED = ("node_modules/", "package.json", "package-lock.json")
WEB_UI_PATHS = ("/static/", "/")


class WebFiles(StaticFiles):
    """The web UI's own files; node_modules and the npm manifests answer 404."""

    async def get_response(self, path: str, scope):
        normalised = path.replace("\\", "/").lstrip("./")
        if normalised.startswith(NOT_SERVED) or normalised in NOT_SERVED:
            raise StarletteHTTPException(status_code=404)
        return await super().get_response(path, scope)


def content_security_policy(settings: GatewaySettings, *, embeddable: bool = False) -> str:
    """The web UI's policy; the widget under /embed/ may be framed by any website (a
    municipality's own), everything else by none."""
    images = " ".join(filter(None, ["'self'", "data:", settings.map_tile_origin]))
    frames = "*" if embeddable else "'none'"
    return ("default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src {images}; connect-src 'self'; frame-ancestors {frames}; "
            "base-uri 'self'; form-action 'self'")


class WebSecurityHeaders:
    """CSP (no inline scripts, styles or handlers; tiles only from MAP_TILE_URL's origin) and
    nosniff on the web UI (`/`) and everything under /static."""

    def __init__(self, app, policy: str, embed_policy: str):
        self.app, self.policy, self.embed_policy = app, policy.encode(), embed_policy.encode()

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/" or path.startswith(("/static/", "/embed/"))):
            return await self.app(scope, receive, send)
        policy = self.embed_policy if path.startswith("/embed/") else self.policy

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"content-security-policy",
                                                b"x-content-type-options")]
                headers += [(b"content-security-policy", policy),
                            (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"same-origin")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class RateLimitHeaders:
    """Adds the RateLimit-* headers the rate limiter left in the request's state (see
    gateway.api.enforce_rate_limits) to the answer, success or error alike."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = scope.get("state", {}).get("rate_limit_headers")
                if headers:
                    message = {**message, "headers": [
                        *message.get("headers", []),
                        *((name.lower().encode(), value.encode())
                          for name, value in headers.items())]}
            await send(message)

        await self.app(scope, receive, with_headers)


def mount_web_ui(app: FastAPI) -> None:
    """/static/vendor/<package>/... from an allow-list of npm folders, then the UI's own files."""
    modules = WEB_DIR / "node_modules"
    for prefix, folder in VENDOR_MOUNTS.items():
        app.mount(f"/static/vendor/{prefix}",
                  StaticFiles(directory=str(modules / folder), check_dir=False),
                  name=f"vendor-{prefix}")
    app.mount("/static", WebFiles(directory=str(WEB_DIR)), name="web")


def create_app(settings: GatewaySettings) -> FastAPI:
    # One log line per forwarded request is noise; failures are logged by the handlers above.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_process_app(
        settings=settings, title="Engagement platform gateway",
        build=lambda: build_gateway(settings),
        routers=[api_router(dev_mode=settings.auth_mode == "dev"), docs_router()],
        version="1.0.0", docs_url=None, redoc_url=None, openapi_url=None)
    install_gateway_error_handlers(app)
    app.mount("/api/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="swagger")
    mount_web_ui(app)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(WebSecurityHeaders, policy=content_security_policy(settings),
                       embed_policy=content_security_policy(settings, embeddable=True))
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language",
                           REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After", "Location", "RateLimit-Limit",
                            "RateLimit-Remaining", "RateLimit-Reset"], max_age=600)
    return app

"""The gateway process: components built once, clients closed on shutdown, routes and docs."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import Counter
from swagger_ui_bundle import swagger_ui_path

from gateway import bootstrap
from gateway.adapters.upstreams import ServiceUnavailable
from gateway.api import WEB_DIR, GatewayError, api_router, docs_router
from gateway.service import UpstreamFailure
from gateway.settings import GatewaySettings
from platform_common.http import REQUEST_ID_HEADER, create_service_app, error_body
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


def create_app(settings: GatewaySettings) -> FastAPI:
    # One log line per forwarded request is noise; failures are logged by the handlers above.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parts = bootstrap.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        log.info("gateway_starting", auth_mode=settings.auth_mode,
                 upstreams=settings.upstream_urls)
        try:
            yield
        finally:
            await parts.close()

    async def profiles_alive():
        await parts.upstreams.check_alive("profiles")

    async def search_alive():
        await parts.upstreams.check_alive("search")

    app = create_service_app(
        settings=settings, title="Engagement platform gateway", version="1.0.0",
        lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None,
        readiness_checks={"redis": parts.counters.ping, "profiles": profiles_alive,
                          "search": search_alive})
    app.state.components = parts
    install_gateway_error_handlers(app)
    app.include_router(api_router(dev_mode=settings.auth_mode == "dev"))
    app.include_router(docs_router())
    app.mount("/api/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="swagger")
    app.mount("/static", StaticFiles(directory=str(WEB_DIR)), name="web")
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language",
                           REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After", "Location"], max_age=600)
    return app

"""The FastAPI skeleton every service shares: request ids, metrics, tracing, errors, health."""
from __future__ import annotations

import asyncio
import time
import uuid
from typing import Awaitable, Callable

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers, MutableHeaders

from platform_common.http.errors import install_error_handlers
from platform_common.observability.metrics import HTTP_REQUEST_SECONDS
from platform_common.settings import CommonSettings

ReadinessCheck = Callable[[], Awaitable[object]]
REQUEST_ID_HEADER = "X-Request-ID"


class RequestContextMiddleware:
    """Gives every request an id (kept from the caller when present) and times it.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware runs every request through an
    extra task and memory streams, which costs more CPU than some of the handlers."""

    def __init__(self, app, service: str):
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        import structlog

        given = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = given or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            HTTP_REQUEST_SECONDS.labels(
                self.service, scope["method"], getattr(route, "path", "unmatched"), str(status)
            ).observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")


def create_service_app(*, settings: CommonSettings, title: str, lifespan=None,
                       readiness_checks: dict[str, ReadinessCheck] | None = None,
                       check_timeout_s: float = 2.0, **fastapi_kwargs) -> FastAPI:
    """A FastAPI app with /healthz, /readyz, /metrics, the error format and tracing."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    app = FastAPI(title=title, lifespan=lifespan, **fastapi_kwargs)
    app.state.settings = settings
    app.state.readiness_checks = dict(readiness_checks or {})
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"status": "alive", "service": settings.service_name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz():
        results: dict[str, str] = {}

        async def run(name: str, check: ReadinessCheck):
            try:
                await asyncio.wait_for(check(), timeout=check_timeout_s)
                results[name] = "ok"
            except Exception as exc:  # any failure means "not ready"; say which
                results[name] = f"failed: {exc.__class__.__name__}: {exc}"[:300]

        await asyncio.gather(*(run(n, c) for n, c in app.state.readiness_checks.items()))
        ready = all(value == "ok" for value in results.values())
        return JSONResponse({"status": "ready" if ready else "not_ready",
                             "service": settings.service_name, "checks": results},
                            status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics():
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app

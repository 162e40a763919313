"""The FastAPI skeleton every service shares: request ids, metrics, tracing, errors, health."""
from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, Callable, Iterable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders

from platform_common.errors import DomainError
from platform_common.http.errors import install_error_handlers
from platform_common.lifecycle import Process, ReadinessCheck
from platform_common.observability.logging import get_logger
from platform_common.observability.metrics import DEPENDENCY_UP, HTTP_REQUEST_SECONDS
from platform_common.service_identity import ServiceKeys
from platform_common.settings import CommonSettings

REQUEST_ID_HEADER = "X-Request-ID"
log = get_logger(__name__)


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


async def run_checks(checks: dict[str, ReadinessCheck], timeout_s: float,
                     failing: dict[str, str] | None = None) -> dict[str, str]:
    """Per check: "ok" or "down"; all run at once. Why a check failed is logged
    (`check_failed`), never returned: /readyz is public on the gateway, and exception text
    names internal hosts and ports. `failing` (name -> last reason) logs each failure once
    per change instead of on every probe, and logs `check_recovered`."""
    results: dict[str, str] = {}
    failing = {} if failing is None else failing

    async def run(name: str, check: ReadinessCheck):
        try:
            await asyncio.wait_for(check(), timeout=timeout_s)
            results[name] = "ok"
            if failing.pop(name, None) is not None:
                log.info("check_recovered", check=name)
        except Exception as exc:  # any failure means "down"; the reason goes to the log
            results[name] = "down"
            reason = f"{exc.__class__.__name__}: {exc}"[:300]
            if failing.get(name) != reason:
                log.warning("check_failed", check=name, error=reason)
            failing[name] = reason

    await asyncio.gather(*(run(n, c) for n, c in checks.items()))
    return results


def create_process_app(*, settings: CommonSettings, title: str, build: Callable[[], Process],
                       routers: Iterable[APIRouter] = (),
                       error_statuses: dict[type[DomainError], int] | None = None,
                       **kwargs) -> FastAPI:
    """The app of one process: `build` (the service's bootstrap) runs inside the event loop,
    the lifespan starts and stops what it built, /readyz asks its readiness checks, and the
    routes reach it through `current_process` (an `Annotated` alias per service)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        process = build()
        app.state.process = process
        app.state.readiness_checks.update(process.readiness_checks)
        # Only reported, never deciding readiness (the gateway's services and Redis).
        app.state.dependency_checks.update(getattr(process, "dependency_checks", {}))
        await process.start()
        try:
            yield
        finally:
            await process.stop()

    app = create_service_app(settings=settings, title=title, lifespan=lifespan,
                             error_statuses=error_statuses, **kwargs)
    for router in routers:
        app.include_router(router)
    return app


def current_process(request: Request) -> Any:
    """The object the service's bootstrap built; use through a typed alias, e.g.
    `Profiles = Annotated[ProfilesApi, Depends(current_process)]`."""
    return request.app.state.process


def create_service_app(*, settings: CommonSettings, title: str, lifespan=None,
                       readiness_checks: dict[str, ReadinessCheck] | None = None,
                       dependency_checks: dict[str, ReadinessCheck] | None = None,
                       dependency_interval_s: float = 15.0,
                       check_timeout_s: float = 2.0,
                       error_statuses: dict[type[DomainError], int] | None = None,
                       **fastapi_kwargs) -> FastAPI:
    """A FastAPI app with /healthz, /readyz, the error format and tracing (the metrics are
    served on METRICS_PORT, see platform_common.http.server).

    `readiness_checks` decide /readyz; `dependency_checks` are only reported there (under
    "dependencies") and in the `service_dependency_up` gauge, probed every
    `dependency_interval_s`: for a process that still serves without them (the gateway)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # A dict kept on the app: create_process_app adds the process's own after building it.
    dependencies: dict[str, ReadinessCheck] = dict(dependency_checks or {})
    # check -> last failure reason, so that each is logged once per change
    failing: dict[str, str] = {}
    failing_readiness: dict[str, str] = {}

    async def probe_dependencies() -> dict[str, str]:
        results = await run_checks(dependencies, check_timeout_s, failing)
        for name, result in results.items():
            DEPENDENCY_UP.labels(settings.service_name, name).set(1 if result == "ok" else 0)
        return results

    @asynccontextmanager
    async def with_probes(app_: FastAPI):
        async def probe_forever():
            while True:
                await probe_dependencies()
                await asyncio.sleep(dependency_interval_s)

        task = None
        try:
            if lifespan is None:
                task = asyncio.create_task(probe_forever()) if dependencies else None
                yield
            else:
                async with lifespan(app_) as state:
                    task = asyncio.create_task(probe_forever()) if dependencies else None
                    yield state
        finally:
            if task is not None:
                task.cancel()

    app = FastAPI(title=title, lifespan=with_probes, **fastapi_kwargs)
    app.state.settings = settings
    # Verifies the signed identities and service credentials (platform_common/http/auth.py).
    app.state.service_keys = ServiceKeys.from_settings(settings)
    app.state.readiness_checks = dict(readiness_checks or {})
    app.state.dependency_checks = dependencies
    install_error_handlers(app, error_statuses)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"status": "alive", "service": settings.service_name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz():
        results, found = await asyncio.gather(
            run_checks(app.state.readiness_checks, check_timeout_s, failing_readiness),
            probe_dependencies())
        ready = all(value == "ok" for value in results.values())
        body = {"status": "ready" if ready else "not_ready", "service": settings.service_name,
                "checks": results}
        if dependencies:
            body["dependencies"] = found
        return JSONResponse(body, status_code=200 if ready else 503)

    return app

"""The profiles API process: routes, MongoDB client and indexes, readiness.

This process never talks to Kafka: its events go into the outbox, which the relay publishes.
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from tenacity import AsyncRetrying, stop_after_delay, wait_exponential

from platform_common.http import create_service_app, error_body
from platform_common.stores import mongo_ping
from services.profiles.api import router
from services.profiles.bootstrap import build_components
from services.profiles.domain.errors import DomainError
from services.profiles.settings import ProfilesSettings


def install_domain_errors(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError):
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)


async def prepare_database(store) -> None:
    """Create the indexes, waiting a while for the database to come up."""
    async for attempt in AsyncRetrying(stop=stop_after_delay(60), wait=wait_exponential(0.2, max=3),
                                       reraise=True):
        with attempt:
            await store.ensure_indexes()


def create_app(settings: ProfilesSettings) -> FastAPI:
    components = build_components(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await prepare_database(components.store)
        try:
            yield
        finally:
            await components.close()

    app = create_service_app(
        settings=settings, title="Profiles", lifespan=lifespan,
        description="System of record for tenants, actors, offers and needs.",
        readiness_checks={"mongo": mongo_ping(components.mongo)})
    app.state.components = components
    install_domain_errors(app)
    app.include_router(router)
    return app

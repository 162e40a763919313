"""The suggestions API process (`python -m services.matching`)."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from platform_common.http import create_service_app
from platform_common.stores import mongo_ping
from services.matching.api import router
from services.matching.bootstrap import build_api
from services.matching.settings import MatchingSettings


def create_app(settings: MatchingSettings) -> FastAPI:
    components = build_api(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await components.store.ensure_indexes()
        try:
            yield
        finally:
            await components.close()

    app = create_service_app(settings=settings, title="Matching: suggestions", lifespan=lifespan,
                             readiness_checks={"mongodb": mongo_ping(components.mongo)})
    app.state.components = components
    app.include_router(router)
    return app

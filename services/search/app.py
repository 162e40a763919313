"""The search service application: the API plus the event consumer feeding the index."""
from __future__ import annotations

from fastapi import FastAPI

from platform_common.http import create_process_app
from services.search.api import router
from services.search.bootstrap import build_search
from services.search.settings import SearchSettings


def create_app(settings: SearchSettings) -> FastAPI:
    return create_process_app(settings=settings, title="engage search",
                              build=lambda: build_search(settings), routers=[router])

"""The suggestions API process (`python -m services.matching`)."""
from __future__ import annotations

from fastapi import FastAPI

from platform_common.http import create_process_app
from services.matching.api import router
from services.matching.bootstrap import build_api
from services.matching.settings import MatchingSettings


def create_app(settings: MatchingSettings) -> FastAPI:
    return create_process_app(settings=settings, title="Matching: suggestions",
                              build=lambda: build_api(settings), routers=[router])

"""The profiles API process (python -m services.profiles)."""
from __future__ import annotations

from fastapi import FastAPI

from platform_common.http import create_process_app
from services.profiles.api import router
from services.profiles.bootstrap import build_api
from services.profiles.domain.contacts import NotAMatch
from services.profiles.settings import ProfilesSettings

# The status of profiles' own errors; platform_common's are mapped by the shared table.
ERROR_STATUSES = {NotAMatch: 422}


def create_app(settings: ProfilesSettings) -> FastAPI:
    return create_process_app(
        settings=settings, title="Profiles", build=lambda: build_api(settings), routers=[router],
        error_statuses=ERROR_STATUSES,
        description="System of record for tenants, actors, offers and needs.")

"""The relay process (python -m services.profiles.relay): /healthz, /readyz and /metrics
around the outbox relay and the `matches` consumer (bootstrap.ProfilesRelay)."""
from __future__ import annotations

from fastapi import FastAPI

from platform_common.http import create_process_app
from services.profiles.bootstrap import build_relay
from services.profiles.settings import RelaySettings


def create_relay_app(settings: RelaySettings) -> FastAPI:
    return create_process_app(settings=settings, title="Profiles outbox relay",
                              build=lambda: build_relay(settings))

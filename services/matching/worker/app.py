"""The worker process: the matcher loop plus /healthz, /readyz and /metrics on its PORT."""
from __future__ import annotations

from fastapi import FastAPI

from platform_common.http import create_process_app
from services.matching.bootstrap import build_worker
from services.matching.settings import WorkerSettings


def create_app(settings: WorkerSettings) -> FastAPI:
    return create_process_app(settings=settings, title="Matching worker",
                              build=lambda: build_worker(settings))

"""Start a service process: settings, JSON logs, tracing, then uvicorn."""
from __future__ import annotations

from typing import Callable, TypeVar

import uvicorn
from fastapi import FastAPI

from platform_common.observability import configure_logging, configure_tracing
from platform_common.settings import CommonSettings, load_settings

S = TypeVar("S", bound=CommonSettings)


def run_service(settings_class: type[S], create_app: Callable[[S], FastAPI]) -> None:
    settings = load_settings(settings_class)
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_config=None, access_log=False, timeout_graceful_shutdown=5)

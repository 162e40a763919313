"""Start a service process: settings, JSON logs, tracing, the metrics port, then uvicorn."""
from __future__ import annotations

from typing import Callable, TypeVar

import uvicorn
from fastapi import FastAPI
from prometheus_client import start_http_server

from platform_common.observability import configure_logging, configure_tracing, get_logger
from platform_common.settings import CommonSettings, load_settings

S = TypeVar("S", bound=CommonSettings)


def start_metrics_server(settings: CommonSettings) -> None:
    """Prometheus metrics on METRICS_PORT, in a thread of its own; the main port has no
    /metrics, so the ingress (which routes only the main port) never exposes them."""
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.host)
        get_logger(__name__).info("metrics_listening", port=settings.metrics_port)


def run_service(settings_class: type[S], create_app: Callable[[S], FastAPI]) -> None:
    settings = load_settings(settings_class)
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    start_metrics_server(settings)
    # X-Forwarded-For/-Proto only from TRUSTED_PROXIES (uvicorn would trust 127.0.0.1 by
    # default, which lets a local caller choose its own address).
    proxies = settings.trusted_proxy_list
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
                log_config=None, access_log=False, timeout_graceful_shutdown=5)

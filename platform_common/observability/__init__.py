from platform_common.observability.logging import configure_logging, get_logger
from platform_common.observability.tracing import configure_tracing, tracer

__all__ = ["configure_logging", "configure_tracing", "get_logger", "tracer"]

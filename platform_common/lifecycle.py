"""The one shape of a service process, without any framework.

Every process (profiles API and relay, search, matching API and worker, notifications, the
gateway) has a `bootstrap.py` whose `build_*(settings)` returns an object of this shape: its
adapters as attributes, `start()`, `stop()` and the readiness checks. The HTTP skeleton
(`platform_common.http.create_process_app`) builds it inside the running event loop (the Kafka
clients bind to it), starts it in the lifespan and asks its checks on /readyz.
"""
from __future__ import annotations

from typing import Awaitable, Callable, Mapping, Protocol

ReadinessCheck = Callable[[], Awaitable[object]]


class Process(Protocol):
    @property
    def readiness_checks(self) -> Mapping[str, ReadinessCheck]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

"""The local stack: engines and services as child processes, started in order, stopped cleanly.

Used by `make run` (deploy/local/__main__.py) and by the test session fixtures, so tests run
against exactly what a developer runs. Each child gets its own process group; `stop()` sends
SIGTERM to every group, waits, then SIGKILLs what is left, so no process outlives the stack.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx

from deploy.local import engines
from deploy.local.engines import free_port, port_open
from platform_common import service_identity
from platform_common.service_identity import ServiceKeys

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port_name: str

    @property
    def metrics_port_name(self) -> str:
        """Its METRICS_PORT: /metrics is served there only, never on the main port."""
        return f"{self.port_name}_metrics"


# The gateway last, so that its first requests find the services (its readiness is its own).
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("profiles", "services.profiles", "profiles"),
    ServiceSpec("profiles-relay", "services.profiles.relay", "profiles_relay"),
    ServiceSpec("search", "services.search", "search"),
    ServiceSpec("matching", "services.matching", "matching"),
    ServiceSpec("matching-worker", "services.matching.worker", "matching_worker"),
    ServiceSpec("notifications", "services.notifications", "notifications"),
    ServiceSpec("gateway", "gateway", "gateway"),
)
SERVICE_NAMES = tuple(spec.name for spec in SERVICES)

# Each service keeps its documents in a server of its own (database per service, as in
# production). Locally that also gives each single-threaded SecantusDB process its own core,
# instead of queueing every service's writes in one.
DOCUMENT_STORES = {"profiles": "mongo", "matching": "mongo_matching",
                   "notifications": "mongo_notifications"}  # database -> port name
SERVICE_DATABASE = {"profiles": "profiles", "profiles-relay": "profiles",
                    "matching": "matching", "matching-worker": "matching",
                    "notifications": "notifications"}

DEFAULT_PORTS = {
    "kafka": 19092, "mongo": 27018, "mongo_matching": 27019, "mongo_notifications": 27020,
    "elasticsearch": 19200, "redis": 16379,
    "smtp": 1025, "mail_http": 8025,
    "gateway": 8080, "profiles": 8081, "search": 8082, "matching": 8083, "notifications": 8084,
    "profiles_relay": 8091, "matching_worker": 8093,
    # METRICS_PORT of each process (9464 in Kubernetes, one per pod; here one per process).
    "gateway_metrics": 9464, "profiles_metrics": 9465, "search_metrics": 9466,
    "matching_metrics": 9467, "notifications_metrics": 9468, "profiles_relay_metrics": 9469,
    "matching_worker_metrics": 9470,
}


def free_ports() -> dict[str, int]:
    return {name: free_port() for name in DEFAULT_PORTS}


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path


@dataclass
class LocalStack:
    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    env_overrides: dict[str, str] = field(default_factory=dict)
    progress: Callable[[str], None] = lambda message: None
    children: dict[str, Child] = field(default_factory=dict)
    # Each process's private key for signed identities between services (made at start when
    # not given; the tests share one set per session), by process name.
    service_keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.service_keys:
            self.service_keys = {name: service_identity.new_private_key() for name in SERVICE_NAMES}
        self.data_dir = Path(self.data_dir)
        self.log_dir = self.data_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)

    # ---- addresses ---------------------------------------------------------------------------
    def url(self, port_name: str) -> str:
        return f"http://127.0.0.1:{self.ports[port_name]}"

    def metrics_url(self, service: str) -> str:
        """Where a service's process serves /metrics (`service`: its name in SERVICES)."""
        spec = next(s for s in SERVICES if s.name == service)
        return f"{self.url(spec.metrics_port_name)}/metrics"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ports['kafka']}"

    def mongo_uri_for(self, database: str) -> str:
        """The document store that holds `database` ("profiles", "matching", "notifications")."""
        return engines.mongo_uri(self.ports[DOCUMENT_STORES[database]])

    @property
    def mongo_uri(self) -> str:
        return self.mongo_uri_for("profiles")

    @property
    def elasticsearch_url(self) -> str:
        return self.url("elasticsearch")

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports['redis']}/0"

    @property
    def public_keys(self) -> str:
        """SERVICE_PUBLIC_KEYS of every process of this stack."""
        return service_identity.format_public_keys(
            {name: service_identity.public_key_of(key) for name, key in self.service_keys.items()})

    def keys_for(self, name: str, *, ttl_s: int = service_identity.TOKEN_TTL_S) -> ServiceKeys:
        """Sign (and verify) as the process `name` of this stack: "gateway" signs user
        identities (the demo seed, tests), any process its service credential."""
        return ServiceKeys(name=name, private_key=self.service_keys[name],
                           public_keys=service_identity.parse_public_keys(self.public_keys),
                           ttl_s=ttl_s)

    def service_env(self, service: str | None = None) -> dict[str, str]:
        """The environment of a service process (`service`: its name in SERVICES, which picks
        the document store of its database and its signing key)."""
        env = {
            "SERVICE_PUBLIC_KEYS": self.public_keys,
            **({"SERVICE_SIGNING_KEY": self.service_keys[service]}
               if service in self.service_keys else {}),
            "ENVIRONMENT": "dev",
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_ENABLE_IDEMPOTENCE": "false",
            "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "MONGO_URI": self.mongo_uri_for(SERVICE_DATABASE.get(service, "profiles")),
            "ELASTICSEARCH_URL": self.elasticsearch_url,
            "REDIS_URL": self.redis_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.ports["smtp"]),
            "PROFILES_URL": self.url("profiles"),
            "SEARCH_URL": self.url("search"),
            "MATCHING_URL": self.url("matching"),
            "NOTIFICATIONS_URL": self.url("notifications"),
            "GATEWAY_URL": self.url("gateway"),
            "PUBLIC_BASE_URL": self.url("gateway"),
            # No metrics port unless start_service gives one: extra processes that tests start
            # from this environment must not collide on the default 9464.
            "METRICS_PORT": "0",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(self.env_overrides)
        return env

    # ---- engines -----------------------------------------------------------------------------
    def engine_specs(self) -> list[engines.Engine]:
        return [
            engines.kafka(self.ports["kafka"], self.data_dir),
            *(engines.mongo(self.ports[port_name], self.data_dir, database)
              for database, port_name in DOCUMENT_STORES.items()),
            engines.elasticsearch(self.ports["elasticsearch"], self.data_dir),
            engines.redis(self.ports["redis"], self.data_dir),
            engines.mail_sink(self.ports["smtp"], self.ports["mail_http"], self.data_dir),
        ]

    def start_engines(self, timeout_s: float = 90) -> None:
        specs = self.engine_specs()
        for spec in specs:
            if port_open(spec.port):
                raise RuntimeError(f"port {spec.port} for {spec.name} is already in use: "
                                   "is another stack running? ('make stop' or choose other ports)")
            self.progress(f"starting {spec.name} on 127.0.0.1:{spec.port}")
            self._spawn(spec.name, spec.command, env=os.environ.copy())
        for spec in specs:
            self._wait(spec.name, lambda spec=spec: port_open(spec.port), timeout_s)
        self._wait("mail", lambda: self._http_ok(self.url("mail_http") + "/healthz"), timeout_s)
        self._wait("elasticsearch", lambda: self._http_ok(self.elasticsearch_url), timeout_s)
        for database, port_name in DOCUMENT_STORES.items():
            self._wait(port_name.replace("_", "-"),
                       lambda database=database: self._mongo_answers(database), timeout_s)

    def create_topics(self) -> None:
        import asyncio

        from platform_common.events import ALL_TOPICS
        from platform_common.kafka import ensure_topics
        from platform_common.settings import CommonSettings

        settings = CommonSettings(kafka_bootstrap_servers=self.kafka_bootstrap, environment="dev")
        asyncio.run(ensure_topics(settings, list(ALL_TOPICS)))
        self.progress(f"topics ready: {', '.join(ALL_TOPICS)} (+ .dlq)")

    # ---- services ----------------------------------------------------------------------------
    def start_services(self, names: tuple[str, ...] | list[str] = SERVICE_NAMES,
                       timeout_s: float = 90) -> None:
        for name in names:
            self.start_service(name, wait=False)
        for name in names:
            self.wait_ready(name, timeout_s)

    def start_service(self, name: str, *, wait: bool = True, timeout_s: float = 90,
                      extra_env: dict[str, str] | None = None) -> None:
        spec = next(s for s in SERVICES if s.name == name)
        env = {**os.environ, **self.service_env(name), "PORT": str(self.ports[spec.port_name]),
               "METRICS_PORT": str(self.ports[spec.metrics_port_name]), **(extra_env or {})}
        self.progress(f"starting {name} on {self.url(spec.port_name)}")
        self._spawn(name, [sys.executable, "-m", spec.module], env=env)
        if wait:
            self.wait_ready(name, timeout_s)

    def wait_ready(self, name: str, timeout_s: float = 90) -> None:
        spec = next(s for s in SERVICES if s.name == name)
        self._wait(name, lambda: self._http_ok(self.url(spec.port_name) + "/readyz"), timeout_s)

    # ---- process control ---------------------------------------------------------------------
    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=REPO_ROOT, start_new_session=True, stdin=subprocess.DEVNULL)
        log.close()
        self.children[name] = Child(name, process, log_path)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one child (SIGKILL by default: the fault tests' crash)."""
        child = self.children.pop(name)
        try:
            os.killpg(child.process.pid, sig)
        except ProcessLookupError:
            pass
        child.process.wait(timeout=15)

    def stop(self, timeout_s: float = 10) -> None:
        for child in reversed(list(self.children.values())):
            try:
                os.killpg(child.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout_s
        for child in self.children.values():
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for child in self.children.values():
            try:
                os.killpg(child.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            child.process.wait()
        self.children.clear()

    def dead_children(self) -> list[Child]:
        return [child for child in self.children.values() if child.process.poll() is not None]

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _wait(self, name: str, ready: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            child = self.children.get(name)
            if child is not None and child.process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {child.process.returncode}:\n"
                                   f"{self.log_tail(name)}")
            if ready():
                self.progress(f"{name} is ready")
                return
            time.sleep(0.2)
        raise TimeoutError(f"{name} was not ready after {timeout_s:.0f} s:\n{self.log_tail(name)}")

    @staticmethod
    def _http_ok(url: str) -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _mongo_answers(self, database: str) -> bool:
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        try:
            with MongoClient(self.mongo_uri_for(database), serverSelectionTimeoutMS=1000) as client:
                client.admin.command("ping")
            return True
        except PyMongoError:
            return False

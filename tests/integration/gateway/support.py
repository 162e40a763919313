"""Extra gateway processes for the gateway's tests, each with its own settings and free port.

The stack's own "gateway" keeps its settings; these run beside it (same engines) and are
stopped at the end of the session.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from deploy.local.engines import free_port
from deploy.local.stack import REPO_ROOT, LocalStack

SERVICES = ("profiles", "search", "matching", "notifications")


@dataclass
class Process:
    name: str
    url: str
    process: subprocess.Popen
    log_path: Path
    metrics_url: str = ""

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False  # not listening yet


def spawn(engines: LocalStack, name: str, command: list[str], env: dict[str, str],
          port: int, ready_path: str, timeout_s: float = 30) -> Process:
    log_path = engines.log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=REPO_ROOT, start_new_session=True,
                                   stdin=subprocess.DEVNULL)
    started = Process(name, f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{started.log()}")
        if answers(started.url + ready_path):
            return started
        time.sleep(0.1)
    started.stop()
    raise TimeoutError(f"{name} did not answer {ready_path}:\n{started.log()}")


def start_fake_services(engines: LocalStack, port: int | None = None) -> Process:
    port = port or free_port()
    return spawn(engines, "gateway-fake-services",
                 [sys.executable, "-m", "tests.integration.gateway.fake_service", str(port)],
                 {**os.environ, "PYTHONUNBUFFERED": "1"}, port, "/profiles/healthz")


def fake_service_urls(fake: Process) -> dict[str, str]:
    return {f"{name.upper()}_URL": f"{fake.url}/{name}" for name in SERVICES}


def start_gateway(engines: LocalStack, name: str, env: dict[str, str],
                  ready_path: str = "/readyz") -> Process:
    port, metrics_port = free_port(), free_port()
    full_env = {**os.environ, **engines.service_env("gateway"), "PORT": str(port),
                "METRICS_PORT": str(metrics_port), **env}
    started = spawn(engines, name, [sys.executable, "-m", "gateway"], full_env, port, ready_path)
    started.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    return started


def dev_token(gateway_url: str, sub: str, tenant: str, roles: list[str]) -> str:
    response = httpx.post(f"{gateway_url}/api/v1/auth/dev-token",
                          json={"sub": sub, "tenant": tenant, "roles": roles}, timeout=5)
    response.raise_for_status()
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

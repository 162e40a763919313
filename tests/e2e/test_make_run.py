"""`make run` as a user runs it: everything answers, demo data is searchable, Ctrl-C leaves nothing.

The supervisor is started exactly as the Makefile starts it (`python -m deploy.local run`),
with free ports so it does not collide with the test session's own stack.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy.local.engines import port_open
from deploy.local.stack import SERVICES
from tests.support.waiting import eventually_sync, until_complete_sync

pytestmark = pytest.mark.e2e
REPO_ROOT = Path(__file__).resolve().parents[2]


def start_supervisor(data_dir: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "deploy.local", "run", "--data-dir", str(data_dir), "--free-ports"],
        cwd=REPO_ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_ready(data_dir: Path, supervisor: subprocess.Popen, log: Path) -> dict:
    """Until the supervisor wrote its state; it fails only when its output (the progress of
    starting, creating topics and seeding) stops growing for a while."""
    def ready():
        if supervisor.poll() is not None:
            raise AssertionError(f"make run exited early:\n{log.read_text()[-3000:]}")
        output = log.read_text()
        return (data_dir / "stack.json").exists(), len(output), output[-500:]

    until_complete_sync(ready, stall_s=120, interval_s=0.5, message="the platform to be ready")
    return json.loads((data_dir / "stack.json").read_text())


def stop_with_ctrl_c(supervisor: subprocess.Popen) -> int:
    os.killpg(supervisor.pid, signal.SIGINT)
    return supervisor.wait(timeout=60)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not a running process
        return stat.read().split()[2] != "Z"


def persona(gateway: str, tenant: str, kind: str) -> dict:
    personas = httpx.get(f"{gateway}/api/v1/auth/personas", timeout=10).json()["items"]
    return next(p for p in personas if p["tenant"] == tenant and p["kind"] == kind)


def verein_suggestions(gateway: str, tenant: str) -> list[dict]:
    """The suggestions of the needs of `tenant`'s Verein persona, as the Verein."""
    verein = persona(gateway, tenant, "association")
    token = httpx.post(f"{gateway}/api/v1/auth/dev-token", timeout=10, json={
        key: verein[key] for key in ("sub", "tenant", "roles")}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    own = httpx.get(f"{gateway}/api/v1/me/export", headers=headers, timeout=10).json()
    found = []
    for need in own["profiles"]["needs"]:
        answer = httpx.get(f"{gateway}/api/v1/needs/{need['id']}/matches", headers=headers,
                           timeout=10)
        found += answer.json()["items"] if answer.status_code == 200 else []
    return found


def test_make_run_starts_everything_and_ctrl_c_leaves_nothing(tmp_path):
    data_dir, log = tmp_path / "data", tmp_path / "run.log"
    supervisor = start_supervisor(data_dir, log)
    try:
        state = wait_until_ready(data_dir, supervisor, log)
        ports = state["ports"]
        for spec in SERVICES:
            response = httpx.get(f"http://127.0.0.1:{ports[spec.port_name]}/readyz", timeout=5)
            assert response.status_code == 200, (spec.name, response.text)
            # Metrics only on the process's metrics port, which the written Prometheus
            # config scrapes.
            assert httpx.get(f"http://127.0.0.1:{ports[spec.port_name]}/metrics").status_code == 404
            assert "# TYPE" in httpx.get(f"http://127.0.0.1:{ports[spec.metrics_port_name]}/metrics").text
            assert f"127.0.0.1:{ports[spec.metrics_port_name]}" in \
                (data_dir / "prometheus.yml").read_text()
        output = log.read_text()
        assert "The platform is ready." in output and f"http://127.0.0.1:{ports['gateway']}/api/docs" in output
        assert "demo: " in output, "seeding shows its progress"

        # Demo data reached the search index through the events: Köln has something to find.
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        found = eventually_sync(lambda: httpx.get(f"{gateway}/api/v1/search", params={
            "kind": "need", "lat": 50.9375, "lon": 6.9603, "radius_km": 25}).json().get("items"),
            timeout_s=60, message="demo needs near Köln in search")
        assert all(item["distance_km"] <= 25 for item in found)

        # Whoever walks the demo as Köln's Verein sees its first need matched with the
        # volunteer persona's offer (demo_data.fitting_offer), explained.
        suggestions = eventually_sync(lambda: verein_suggestions(gateway, "koeln"),
                                      timeout_s=60, message="a suggestion for the Verein's need")
        volunteer = persona(gateway, "koeln", "volunteer")
        assert any(s["offer"]["actor_id"] == volunteer["actor_id"] and s["reasons"]
                   for s in suggestions)
    finally:
        code = stop_with_ctrl_c(supervisor)
    assert code == 0
    assert "stopped; no process of the stack is left" in log.read_text()
    leftovers = [name for name, pid in state["pids"].items() if alive(pid)]
    assert leftovers == []
    listening = [name for name, port in ports.items() if port_open(port)]
    assert listening == []

    # A second start on the same data: ready again, the demo data is not loaded twice.
    second_log = tmp_path / "second.log"
    started = time.monotonic()
    supervisor = start_supervisor(data_dir, second_log)
    try:
        wait_until_ready(data_dir, supervisor, second_log)
        print(f"second start ready after {time.monotonic() - started:.1f} s")
        assert "already" in second_log.read_text(), "the seeding notices the existing demo data"
    finally:
        assert stop_with_ctrl_c(supervisor) == 0

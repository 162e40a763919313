"""The operator command (`python -m services.notifications.admin`) against the real service,
run as it runs in the notifications pod: in that process's environment, with its key."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlparse

from tests.integration.notifications.conftest import internal
from tests.support.identity import service_headers


def admin(stack, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.notifications.admin", *args],
                          env=env, capture_output=True, text=True, timeout=60)


def pod_env(stack) -> dict[str, str]:
    """The notifications process's environment (its key, everyone's public keys, its PORT)."""
    port = str(urlparse(stack.url("notifications")).port)
    return {**os.environ, **stack.service_env("notifications"), "PORT": port}


def test_the_admin_command_runs_the_tasks_with_the_services_own_key(notifications):
    env = pod_env(notifications)
    # The default URL comes from the settings the service reads (PORT).
    digests = admin(notifications, "run-digests", env=env)
    assert digests.returncode == 0, digests.stderr
    assert isinstance(json.loads(digests.stdout), dict)
    retried = admin(notifications, "retry-deliveries", "--url", notifications.url("notifications"),
                    env=env)
    assert retried.returncode == 0, retried.stderr
    assert isinstance(json.loads(retried.stdout), dict)


def test_without_the_key_the_command_fails_with_one_clear_line(notifications):
    env = pod_env(notifications)
    del env["SERVICE_SIGNING_KEY"]  # dev: the well-known dev key stands in, and is refused
    failed = admin(notifications, "run-digests", env=env)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    line = failed.stderr.strip()
    assert "\n" not in line
    assert "401" in line and "SERVICE_SIGNING_KEY is not set" in line
    assert "kubectl exec deploy/notifications" in line
    # Outside dev there is no stand-in: the command says what is missing before calling.
    failed = admin(notifications, "retry-deliveries", env={**env, "ENVIRONMENT": "test"})
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().startswith(
        "retry-deliveries failed: SERVICE_SIGNING_KEY is not set")


async def test_only_the_notifications_service_itself_may_run_the_tasks(platform):
    for path in ("/internal/digests/run", "/internal/deliveries/retry"):
        refused = await platform.api.post(path, headers=service_headers("notifications",
                                                                        caller="gateway"))
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "forbidden"
    allowed = await platform.api.post("/internal/deliveries/retry", headers=internal())
    assert allowed.status_code == 200, allowed.text

"""Operator commands: run the notifications service's periodic tasks now.

    python -m services.notifications.admin run-digests|retry-deliveries [--url URL]
    kubectl exec deploy/notifications -- python -m services.notifications.admin run-digests

Runs in the notifications process's own environment (its pod, or `make run`'s process): it
reads the same settings as the service, signs a service credential as "notifications" with
that process's SERVICE_SIGNING_KEY and calls `POST /internal/...` (which answers only the
notifications service itself). Prints the answer (JSON); any failure ends with one line on
stderr and a non-zero exit.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import httpx

from platform_common.service_identity import ServiceKeys
from platform_common.settings import load_settings
from services.notifications.settings import NotificationsSettings

TASKS = {"run-digests": "/internal/digests/run",
         "retry-deliveries": "/internal/deliveries/retry"}
PROG = "python -m services.notifications.admin"


class AdminError(Exception):
    """A failure to report in one line."""


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"


def call(task: str, *, settings: NotificationsSettings, url: str | None = None,
         timeout_s: float = 120) -> dict:
    """Call the task's internal route with a credential signed by this process's key."""
    if settings.service_signing_key is None:
        raise AdminError("SERVICE_SIGNING_KEY is not set: run this inside the notifications "
                         "service's environment (kubectl exec deploy/notifications -- "
                         f"{PROG} ...), which holds its key")
    keys = ServiceKeys.from_settings(settings)
    base = (url or f"http://127.0.0.1:{settings.port}").rstrip("/")
    try:
        response = httpx.post(base + TASKS[task], timeout=timeout_s,
                              headers=keys.caller_headers(audience=settings.service_name))
    except httpx.HTTPError as error:
        raise AdminError(f"cannot reach the notifications service at {base}: "
                         f"{error.__class__.__name__}: {error}") from None
    if response.status_code in (401, 403):
        hint = ("SERVICE_SIGNING_KEY is not set, so the well-known dev key stood in"
                if "SERVICE_SIGNING_KEY" not in os.environ
                else "this SERVICE_SIGNING_KEY is not the running service's")
        raise AdminError(f"the notifications service refused this command's credential "
                         f"({_error_text(response)}); {hint}: run it in the notifications "
                         f"service's own environment (kubectl exec deploy/notifications -- "
                         f"{PROG} {task})")
    if response.status_code >= 400:
        raise AdminError(_error_text(response))
    return response.json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("task", choices=sorted(TASKS),
                        help="run-digests: send the daily digests now; retry-deliveries: one "
                             "round of the retry task (deliveries whose retry time has come)")
    parser.add_argument("--url", help="base URL of the notifications service "
                                      "(default: http://127.0.0.1:$PORT)")
    args = parser.parse_args(argv)
    settings = load_settings(NotificationsSettings)
    try:
        answer = call(args.task, settings=settings, url=args.url)
    except AdminError as error:
        print(f"{args.task} failed: {error}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

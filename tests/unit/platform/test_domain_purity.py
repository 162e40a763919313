"""Domains stay pure: importing one loads no web framework, broker client, database driver,
JWT library or telemetry, so its rules can be read, reused and unit-tested on their own.

Each package is imported in a fresh interpreter: within this test process those modules are
loaded already by other tests."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

DOMAIN_PACKAGES = [
    "platform_common.identity", "platform_common.errors", "platform_common.lifecycle",
    "platform_common.privacy", "platform_common.visibility", "platform_common.vocabulary",
    "platform_common.events",
    "services.profiles.domain", "services.search.domain", "services.matching.domain",
    "services.matching.engine", "services.notifications.domain", "gateway.domain",
]
FORBIDDEN = ("fastapi", "starlette", "uvicorn", "aiokafka", "faust", "pymongo", "bson", "motor",
             "elasticsearch", "redis", "jwt", "httpx", "opentelemetry", "prometheus_client")

PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(getattr(package, "__path__", []), sys.argv[1] + "."):
    importlib.import_module(info.name)
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps(loaded))
"""


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_domain_package_imports_no_framework_or_driver(package):
    done = subprocess.run([sys.executable, "-c", PROBE, package], capture_output=True, text=True,
                          check=True)
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert not loaded & set(FORBIDDEN), (
        f"importing {package} loads {sorted(loaded & set(FORBIDDEN))}")

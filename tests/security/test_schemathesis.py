"""The OpenAPI document tells the truth: a pinned Schemathesis fuzzes every operation of the
gateway on the real stack, with every check on, signed in as a member and as an operator.

Schemathesis reads the merged document over HTTP, generates valid and invalid requests
(bounded examples per operation, deterministic) and checks every answer: no 5xx, only
documented statuses, content types and headers, bodies that match their schema, invalid input
refused, unsupported methods answered 405, protected routes refusing missing auth, ... It runs as
its own process (the CLI), so its report reads the same as a developer's `st run` by hand.

Its time goes to the coverage phase (every boundary and every invalid value of every field:
about 88 % of a run; fuzzing 10 %, the stateful phase and the examples 1 % each). That phase
skips what would only repeat itself: the offers' routes (the same code and models as the needs'),
a member on routes only a role may call (all refused alike), and the operator's invalid requests
where a member's are refused alike (MEMBER_CONFIG, OPERATOR_CONFIG).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.domain.routes import PROXY_ROUTES
from tests.support.api import PublicApi, item_body, unique

# Examples per operation where a phase draws them (fuzzing, stateful; the coverage phase makes
# every case its schema defines): small enough for a loaded 2-core machine, enough to find lies.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "4"))
CENTRE = {"lat": 50.9375, "lon": 6.9603}
# Routes that need a role beyond signing in (tenant admins, operators): a member gets 403 there.
ROLE_GATED = sorted(route.name for route in PROXY_ROUTES if route.access.roles)


pytestmark = pytest.mark.floods_topics


@pytest.fixture(scope="module")
def gateway(platform):
    """The session's platform. The fuzzer leaves hundreds of tenants, actors and items at random
    places behind, which must turn up in no other test's searches and matches: marked
    `floods_topics`, this test runs after every test that uses the session's stack
    (tests/conftest.py), which saves starting a platform of its own."""
    return platform.url("gateway")


@pytest.fixture(scope="module")
def member(gateway) -> tuple[dict, list[str]]:
    """A member of a fresh municipality with a profile, an offer and a need of their own: their
    headers, and these ids for the fuzzer's path parameters (so that it reaches real data)."""
    api = PublicApi(gateway)
    try:
        tenant = api.new_tenant("Fuzzstadt", CENTRE)
        headers = api.login(unique("fuzz-member"), tenant, "member")
        actor = api.new_actor(headers, type="association", name="Fuzz e.V.", location=CENTRE)
        ids = [tenant, actor]
        for kind in ("offers", "needs"):
            created = api.http.post(f"/{kind}", json=item_body(actor, CENTRE), headers=headers)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        return headers, ids
    finally:
        api.close()


@pytest.fixture(scope="module")
def operator_headers(gateway):
    api = PublicApi(gateway)
    try:
        return api.login(unique("fuzz-operator"), "land", "operator")
    finally:
        api.close()


# Every check stays on. What a schema cannot state is configured here, per operation, each for
# its reason: a request that matches the document may still be refused by a rule about other
# data (an unknown actor or item id, a combination of parameters, a tenant's own categories, a
# webhook target) with 422, or carry an opaque token or cursor that is not one of ours (400).
# DELETE on an offer or need closes it: it stays readable with status "closed" (DESIGN.md).
CONFIG = """
# The gateway refuses a body or a URI that is too long before anything else (413, 414).
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422",
                     "428", "429", "5xx"]

[[operations]]
include-operation-id-regex = "^(post_offers|post_needs|patch_offers_id|patch_needs_id|post_contacts|post_tenants|patch_tenants_id|post_actors|patch_actors_id|post_actors_id_members|put_me_notification_preferences|get_search|post_offers_id_hide|post_needs_id_hide)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-operation-id-regex = "^(get_me_notifications|get_me_deliveries|get_unsubscribe|post_unsubscribe)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

[[operations]]
include-operation-id-regex = "^(get_offers_id|get_needs_id)$"
checks.use_after_free.enabled = false

# Shifts and sign-ups: a schema-valid request is refused by a rule about time or other data (a
# start in the past, someone else's actor, the cancellation cut-off, hours before the shift).
[[operations]]
include-operation-id-regex = "^(post_offers_id_shifts|post_needs_id_shifts|patch_shifts_id|post_shifts_id_signups|post_signups_id_cancel|post_signups_id_hours|post_signups_id_hours_confirm|get_actors_id_hours)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

# DELETE on a shift cancels it: it stays readable with status "cancelled".
[[operations]]
include-operation-id-regex = "^(get_shifts_id)$"
checks.use_after_free.enabled = false

# Offers and needs are one router with one set of models, made per kind (gateway/domain/routes.py
# and services/profiles/api.py: `_item_routes`): the coverage phase's every-boundary cases (most
# of the run's time) would be the same requests twice. The needs get them; the offers keep the
# examples, fuzzing and stateful phases.
[[operations]]
include-operation-id-regex = "^[a-z]+_offers(_[a-z_]+)?$"
phases.coverage.enabled = false
"""

# The member's run: on the routes that need a role, the gateway refuses every request of a member
# before anything reads it (403); examples and fuzzing check that, the coverage phase would only
# repeat it for every boundary of every field.
MEMBER_CONFIG = f"""
[[operations]]
include-operation-id-regex = "^({'|'.join(ROLE_GATED)})$"
phases.coverage.enabled = false
"""

# The operator's run: a request that breaks the schema is refused before anyone looks at who sent
# it (the same 4xx for every signed-in caller: the member's run checks those), except on the routes
# a member may not call at all. Elsewhere the operator's coverage phase sends valid data only,
# which reaches what only an operator may do or see (every tenant, moderation, search unscoped).
OPERATOR_CONFIG = f"""
[phases.coverage.generation]
mode = "positive"

[[operations]]
include-operation-id-regex = "^({'|'.join(ROLE_GATED)})$"
phases.coverage.generation.mode = "all"
"""


def own_ids_config(ids: list[str]) -> str:
    """Half of the generated `id`s are the member's own tenant, actor, offer and need."""
    values = ", ".join(f'"{value}"' for value in ids)
    return (f'\n[dictionaries.own-ids]\nvalues = [{values}]\n\n'
            '[parameters]\n"path.id" = { dictionary = "own-ids", probability = 0.5 }\n'
            '"path.actor_id" = { dictionary = "own-ids", probability = 0.5 }\n')


def start_schemathesis(gateway: str, headers: dict, ids: list[str], report_dir: Path,
                       role_config: str) -> subprocess.Popen:
    report_dir.mkdir(parents=True, exist_ok=True)
    config = report_dir / "schemathesis.toml"
    config.write_text(own_ids_config(ids) + CONFIG + role_config)
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
        "run", f"{gateway}/api/openapi.json",
        "--url", gateway,
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        # The same cases on every run (no random seed, no example database).
        "--generation-deterministic",
        # One worker per run (the two roles run side by side): with several threads, CPython
        # 3.11's ast module broke inside Hypothesis now and then ("AST constructor recursion
        # depth mismatch").
        "--workers", "1",
        "--request-timeout", "30",
        "--no-shrink",
        "--suppress-health-check", "all",
        "--report", "junit", "--report-dir", str(report_dir),
        "--header", f"Authorization: {headers['Authorization']}",
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=report_dir, env={**os.environ, "NO_COLOR": "1"})


def test_the_gateway_answers_as_its_openapi_document_says(gateway, member, operator_headers,
                                                          tmp_path):
    member_headers, ids = member
    started = time.monotonic()
    runs = {role: start_schemathesis(gateway, headers, ids, tmp_path / role, role_config)
            for role, headers, role_config in (("member", member_headers, MEMBER_CONFIG),
                                               ("operator", operator_headers, OPERATOR_CONFIG))}
    outputs = {role: run.communicate(timeout=900)[0] for role, run in runs.items()}
    print(f"schemathesis as member and operator: {time.monotonic() - started:.0f} s")
    for role, run in runs.items():
        print(role, *[line.strip() for line in outputs[role].splitlines()
                      if " generated, " in line or line.startswith("====")][-2:])
        assert run.returncode == 0, \
            f"Schemathesis found problems as {role}:\n{outputs[role][-20000:]}"

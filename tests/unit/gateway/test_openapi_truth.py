"""The merged OpenAPI document (built from the real routes, without servers) tells a client every
status an operation can answer, in the shared error format, and the shape of every success body.
"""
from __future__ import annotations

import importlib

import pytest
from fastapi import FastAPI

from gateway.api import api_router
from gateway.openapi import GATEWAY_STATUSES, merge_openapi
from gateway.domain.routes import PROXY_ROUTES
from platform_common.http import install_error_handlers
from platform_common.http.openapi import ERROR_REF

SERVICES = ("profiles", "search", "matching", "notifications")
METHODS = {"get", "put", "post", "patch", "delete"}


def service_document(name: str) -> dict:
    app = FastAPI(title=name)
    install_error_handlers(app)
    app.include_router(importlib.import_module(f"services.{name}.api").router)
    return app.openapi()


@pytest.fixture(scope="module")
def document() -> dict:
    own = FastAPI(title="gateway", version="1")
    install_error_handlers(own)
    own.include_router(api_router(dev_mode=True))
    return merge_openapi(own=own.openapi(), services={name: service_document(name)
                                                      for name in SERVICES},
                         routes=PROXY_ROUTES, title="API", version="1")


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_every_operation_lists_the_gateways_error_statuses(document):
    missing = {name: [status for status in GATEWAY_STATUSES
                      if str(status) not in operation["responses"]]
               for name, operation in operations(document)}
    assert {name: statuses for name, statuses in missing.items() if statuses} == {}


def test_role_restricted_routes_list_403(document):
    for route in PROXY_ROUTES:
        if route.access.roles:
            operation = document["paths"][route.public_path][route.method.lower()]
            assert "403" in operation["responses"], route.name


def test_every_error_status_has_the_shared_error_schema(document):
    wrong = []
    for name, operation in operations(document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema != {"$ref": ERROR_REF}:
                    wrong.append(f"{name} {status}: {schema}")
    assert wrong == []
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas, "FastAPI's 422 body is not what we answer"
    assert [name for name in schemas if name.endswith("_ErrorResponse")] == [], \
        "every service states the same error schema"


def test_no_success_response_has_an_empty_schema(document):
    empty = []
    for name, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            contents = response.get("content") or {}
            if not contents or any(not (media.get("schema") or {}) for media in contents.values()):
                empty.append(f"{name} {status}")
    assert empty == []


def test_every_operation_has_a_success_response(document):
    assert [name for name, operation in operations(document)
            if not any(status.startswith("2") for status in operation["responses"])] == []


def test_vocabularies_and_limits_are_stated(document):
    schemas = document["components"]["schemas"]
    search = {parameter["name"]: parameter["schema"]
              for parameter in document["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert search["kind"]["enum"] == ["offer", "need", "actor"], "no `null` for a query parameter"
    assert "enum" in search["category"]["items"]
    assert search["limit"]["maximum"] == 100
    item = schemas["ItemCreate"]["properties"]
    assert "enum" in item["categories"]["items"]
    assert "enum" in item["engagement"]
    assert item["title"]["maxLength"] == 140 and "pattern" in item["title"]
    assert "enum" in schemas["ActorCreate"]["properties"]["type"]


@pytest.mark.parametrize("name", ["Title", "Name", "Description", "PlaceName", "Reason", "Sub",
                                  "Email", "Logo", "Color", "TenantId"])
def test_stated_text_patterns_agree_with_the_validators(name):
    """A string matches the documented pattern exactly when profiles accepts it."""
    import random
    import re

    from pydantic import TypeAdapter, ValidationError

    from services.profiles.domain import requests

    adapter = TypeAdapter(getattr(requests, name))
    # In JSON Schema (ECMA 262) `$` is the end of the text; in Python also before a last "\n".
    pattern = re.compile(adapter.json_schema()["pattern"].replace("$", r"\Z"))
    alphabet = ["a", "ü", " ", "\t", "\n", "\r", "\x00", "\x1c", "\x7f", "\x85", "\xa0",
                "\u2028", "\u202e", "\u3000", "@", ".", "#", "1", "f", "-", "https://", "http://",
                "data:image/png;base64,", "=", "/"]
    generator = random.Random(11)
    for _ in range(1500):
        value = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 7)))
        try:
            adapter.validate_python(value)
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted == bool(pattern.search(value)), repr(value)


def test_path_parameters_state_what_the_gateway_forwards(document):
    """A client that follows the document never sends a segment the gateway refuses (422)."""
    from gateway.domain.routes import SEGMENT_PATTERN

    for name, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"]["pattern"] == SEGMENT_PATTERN.pattern, name
                assert parameter["schema"]["maxLength"] <= 256, name
            else:
                assert {"type": "null"} not in parameter["schema"].get("anyOf", []), name

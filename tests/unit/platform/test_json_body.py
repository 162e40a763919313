"""Strict JSON bodies and honest 405s, as every service's routes answer them."""
from __future__ import annotations

import json
import warnings

import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from platform_common.http import create_service_app
from platform_common.http.json_body import MAX_JSON_DEPTH, StrictJsonRoute, parse_json
from platform_common.settings import CommonSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class Thing(BaseModel):
    name: str = ""


def make_client() -> TestClient:
    app = create_service_app(settings=CommonSettings(service_name="unit"), title="unit")
    things = APIRouter(prefix="/things", route_class=StrictJsonRoute)

    @things.get("/{thing_id}")
    async def read(thing_id: str):
        return {"id": thing_id}

    @things.patch("/{thing_id}")
    async def change(thing_id: str, body: Thing):
        return body

    @things.delete("/{thing_id}")
    async def close(thing_id: str):
        return {"id": thing_id}

    app.include_router(things)
    return TestClient(app, raise_server_exceptions=False)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("body,reason", [
    ('{"name": "a", "name": "b"}', "duplicate key 'name'"),
    ('{"name": {"x": 1, "x": 2}}', "duplicate key 'x'"),
    (nested(1000), "nested deeper"),
    (nested(100_000), "nested deeper"),
    (nested(MAX_JSON_DEPTH + 1), "nested deeper"),
    ('{"name": NaN}', "NaN"),
    ('[Infinity]', "Infinity"),
    (b'{"name": "\xff"}', "not UTF-8"),
    ('{"name": ', "Expecting value"),
])
def test_parse_json_refuses_with_a_reason(body, reason):
    with pytest.raises(json.JSONDecodeError) as caught:
        parse_json(body)
    assert reason in caught.value.msg


def test_parse_json_takes_ordinary_documents():
    assert parse_json(b'{"a": [1, {"b": null}], "c": "\\u00e4"}') == {"a": [1, {"b": None}], "c": "ä"}
    assert parse_json(nested(MAX_JSON_DEPTH)) == json.loads(nested(MAX_JSON_DEPTH))
    assert parse_json("\ufeff{}".encode()) == {}  # a byte order mark is tolerated


@pytest.mark.parametrize("body", ['{"name": "a", "name": "b"}', nested(1000), '{"name": NaN}'])
def test_a_route_answers_400_malformed_json(body):
    response = make_client().patch("/things/1", content=body,
                                   headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "malformed_json"
    assert error["details"][0]["field"] == "body"


def test_a_route_takes_a_good_body():
    response = make_client().patch("/things/1", json={"name": "Anna"})
    assert response.status_code == 200 and response.json() == {"name": "Anna"}


def test_405_names_every_method_of_the_path():
    response = make_client().put("/things/1")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}

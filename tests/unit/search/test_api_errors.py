"""The domain errors of a search answer over HTTP exactly as before (status, code, body)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from platform_common.http import create_process_app
from services.search.api import router
from services.search.settings import SearchSettings
from tests.unit.search.test_service import FakeIndex


class StubProcess(SimpleNamespace):
    readiness_checks: dict = {}

    async def start(self):
        pass

    async def stop(self):
        pass


@pytest.fixture
def client_for():
    def make(index: FakeIndex) -> TestClient:
        app = create_process_app(settings=SearchSettings(), title="unit search",
                                 build=lambda: StubProcess(index=index), routers=[router])
        return TestClient(app)
    return make


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def test_invalid_parameters_answer_422_with_one_detail_per_field(client_for):
    with client_for(FakeIndex()) as client:
        error = error_of(client.get("/search", params={"lat": 1.0}), 422)
    assert error == {"code": "validation_error", "message": "The request is invalid.",
                     "details": [{"field": "lon", "path": ["lon"],
                                  "message": error["details"][0]["message"]}]}


def test_broken_cursor_answers_400_invalid_cursor(client_for):
    with client_for(FakeIndex()) as client:
        error = error_of(client.get("/search", params={"cursor": "@@@"}), 400)
    assert error["code"] == "invalid_cursor"
    assert error["message"] == "The paging cursor is invalid; start again from the first page."
    assert [d["field"] for d in error["details"]] == ["cursor"]


def test_search_engine_down_answers_503_search_unavailable(client_for):
    with client_for(FakeIndex(down=True)) as client:
        error = error_of(client.get("/search"), 503)
    assert error == {"code": "search_unavailable",
                     "message": "Search is unavailable for a moment; please try again.",
                     "details": None}

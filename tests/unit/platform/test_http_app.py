"""The FastAPI skeleton every service shares: error format, request ids, health and readiness."""
from __future__ import annotations

from typing import Annotated

import httpx
import pytest
import structlog
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from pydantic import BaseModel, Field, ValidationError
from structlog.testing import capture_logs

from deploy.local.engines import free_port
from platform_common.http import ApiError, create_process_app, create_service_app, current_process
from platform_common.http import app as http_app
from platform_common.http.server import start_metrics_server
from platform_common.settings import CommonSettings


class Body(BaseModel):
    title: str = Field(min_length=1)
    radius_km: float = Field(gt=0)


def make_client(ready: bool = True) -> TestClient:
    async def check():
        if not ready:
            raise ConnectionError("store down")

    app = create_service_app(settings=CommonSettings(service_name="unit"), title="unit",
                             readiness_checks={"store": check})

    @app.post("/things")
    async def create(body: Body):
        return body

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals")

    @app.get("/missing")
    async def missing():
        raise ApiError(404, "not_found", "nothing here")

    return TestClient(app, raise_server_exceptions=False)


def test_validation_error_names_the_field():
    response = make_client().post("/things", json={"title": "", "radius_km": -1})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {d["field"] for d in error["details"]} == {"title", "radius_km"}
    assert all(d["message"] for d in error["details"])


def test_malformed_json_is_400():
    response = make_client().post("/things", content=b'{"title": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_unexpected_errors_do_not_leak_internals():
    response = make_client().get("/boom")
    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.json()["error"]["code"] == "internal_error"


def test_api_errors_and_unknown_routes_use_the_error_format():
    client = make_client()
    assert client.get("/missing").json() == {"error": {"code": "not_found", "message": "nothing here", "details": None}}
    assert client.get("/nope").json()["error"]["code"] == "not_found"


def test_request_id_is_kept_or_made():
    client = make_client()
    assert client.get("/healthz", headers={"X-Request-ID": "abc"}).headers["X-Request-ID"] == "abc"
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32


def test_readiness_reflects_dependencies():
    assert make_client(ready=True).get("/readyz").status_code == 200
    response = make_client(ready=False).get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"store": "down"}


def test_a_dependency_is_reported_but_does_not_decide_readiness(monkeypatch):
    async def down():
        raise ConnectionError("Error 111 connecting to redis.engage.svc:6379")

    app = create_service_app(settings=CommonSettings(service_name="unit-deps"), title="unit",
                             dependency_checks={"redis": down})
    with capture_logs() as logs:
        monkeypatch.setattr(http_app, "log", structlog.get_logger())  # uncached: captured
        with TestClient(app) as client:
            response = client.get("/readyz")
            client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {}
    # The public body says only "down"; the reason (host, port, error) goes to the log, once.
    assert response.json()["dependencies"] == {"redis": "down"}
    assert "6379" not in response.text and "ConnectionError" not in response.text
    failures = [entry for entry in logs if entry["event"] == "check_failed"]
    assert len(failures) == 1 and failures[0]["check"] == "redis"
    assert "redis.engage.svc:6379" in failures[0]["error"]
    assert 'service_dependency_up{dependency="redis",service="unit-deps"} 0.0' in \
        generate_latest().decode()


def test_metrics_are_served_on_the_metrics_port_only():
    client = make_client()
    client.get("/healthz")
    client.post("/things", json={"title": "x", "radius_km": 1})
    assert client.get("/metrics").status_code == 404, "the ingress routes the main port"
    port = free_port()
    start_metrics_server(CommonSettings(service_name="unit", metrics_port=port))
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert 'http_request_duration_seconds_count{method="POST",route="/things",service="unit",status="200"}' in text


def test_trusted_proxies_are_networks_and_never_everyone():
    assert CommonSettings(trusted_proxies="10.0.0.0/8, 192.168.1.7").trusted_proxy_list == [
        "10.0.0.0/8", "192.168.1.7"]
    assert CommonSettings().trusted_proxy_list == [], "by default nobody's header is believed"
    for bad in ("0.0.0.0/0", "::/0", "ingress", "10.0.0.0/33"):
        with pytest.raises(ValidationError, match="TRUSTED_PROXIES|trusted_proxies"):
            CommonSettings(trusted_proxies=bad)


def test_metrics_port_must_differ_from_the_main_port():
    with pytest.raises(ValidationError, match="METRICS_PORT"):
        CommonSettings(port=9000, metrics_port=9000)


class RecordingProcess:
    """A process as a service's bootstrap builds it, recording what the app did with it."""

    def __init__(self, events: list[str], *, ready: bool = True):
        self.events, self.ready = events, ready
        self.events.append("built")

    @property
    def readiness_checks(self):
        async def store():
            if not self.ready:
                raise ConnectionError("store down")
        return {"store": store}

    async def start(self) -> None:
        self.events.append("started")

    async def stop(self) -> None:
        self.events.append("stopped")


# Module level: the routes' annotations are strings (postponed) and resolved here.
Process = Annotated[RecordingProcess, Depends(current_process)]


def test_process_app_builds_starts_and_stops_the_process_and_asks_its_checks():
    events: list[str] = []
    router = APIRouter()

    @router.get("/events")
    async def seen(process: Process):
        return process.events

    app = create_process_app(settings=CommonSettings(service_name="unit"), title="unit",
                             build=lambda: RecordingProcess(events, ready=False), routers=[router])
    assert events == []  # built in the lifespan, inside the running loop
    with TestClient(app) as client:
        assert client.get("/events").json() == ["built", "started"]
        readiness = client.get("/readyz")
        assert readiness.status_code == 503 and readiness.json()["checks"] == {"store": "down"}
    assert events == ["built", "started", "stopped"]


def test_domain_errors_answer_with_their_status_code_and_field():
    from platform_common import errors

    class Gone(errors.DomainError):
        code = "gone"

    app = create_service_app(settings=CommonSettings(service_name="unit"), title="unit",
                             error_statuses={Gone: 410})
    raised = {
        "missing": errors.NotFound.of("Offer", "o1"),
        "stale": errors.VersionConflict(current_version=3, given_version=2),
        "field": errors.invalid(["shifts", 0, "end"], "ends before it starts"),
        "cursor": errors.invalid_cursor("after"),
        "busy": errors.Busy("Too many writers."),
        "gone": Gone("It went."),
    }

    @app.get("/raise/{name}")
    async def fail(name: str):
        raise raised[name]

    client = TestClient(app)
    answers = {name: client.get(f"/raise/{name}") for name in raised}
    assert {name: r.status_code for name, r in answers.items()} == {
        "missing": 404, "stale": 409, "field": 422, "cursor": 400, "busy": 503, "gone": 410}
    assert answers["stale"].json()["error"]["code"] == "version_conflict"
    assert answers["field"].json()["error"]["details"][0]["field"] == "shifts.0.end"
    assert answers["cursor"].json()["error"]["code"] == "invalid_cursor"
    assert answers["missing"].json()["error"]["message"] == "Offer 'o1' does not exist"

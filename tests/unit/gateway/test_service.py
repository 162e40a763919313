"""The gateway's use cases raise domain errors (answered by the shared handler exactly as the
HTTP errors they replace) and answer dev tokens through the issuer port."""
import pytest

from gateway import service
from gateway.adapters.tokens import DevTokens
from gateway.domain.routes import PROXY_ROUTES
from gateway.ports import UpstreamResponse
from platform_common.errors import BadRequest, InvalidInput

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


class RecordingUpstreams:
    names = ["profiles"]

    def __init__(self):
        self.requests: list[tuple] = []

    async def request(self, service_name, method, path, **kwargs):
        self.requests.append((service_name, method, path, kwargs))
        return UpstreamResponse(200, b"{}")

    async def check_alive(self, service_name):
        return None


def route(method: str, path: str):
    return next(r for r in PROXY_ROUTES if r.method == method and r.path == path)


async def forward(upstreams, route_, path_params, body=b""):
    return await service.forward(upstreams=upstreams, route=route_, path_params=path_params,
                                 query="", body=body, identity=None, request_id="r-1")


async def test_a_body_that_is_not_json_is_a_bad_request_malformed_json():
    upstreams = RecordingUpstreams()
    with pytest.raises(BadRequest) as caught:
        await forward(upstreams, route("POST", "/offers"), {}, body=b'{"title": ')
    assert caught.value.code == "malformed_json"
    assert caught.value.message == "The request body is not valid JSON."
    assert caught.value.details[0]["field"] == "body" and caught.value.details[0]["path"] == []
    assert upstreams.requests == []


async def test_an_unsafe_path_parameter_is_invalid_input_naming_it():
    upstreams = RecordingUpstreams()
    with pytest.raises(InvalidInput) as caught:
        await forward(upstreams, route("GET", "/offers/{id}"), {"id": ".."})
    assert caught.value.code == "validation_error"
    assert [(d["field"], d["path"]) for d in caught.value.details] == [("id", ["id"])]
    assert upstreams.requests == []


async def test_a_safe_request_is_forwarded_to_its_service():
    upstreams = RecordingUpstreams()
    answer = await forward(upstreams, route("GET", "/offers/{id}"), {"id": "o-1"})
    assert answer.ok and upstreams.requests[0][:3] == ("profiles", "GET", "/offers/o-1")


async def test_a_dev_token_is_issued_for_its_verifier():
    tokens = DevTokens(secret=SECRET)
    answer = service.dev_token(issuer=tokens, sub="anna", tenant="koeln", roles=["member"],
                               ttl_s=600)
    assert (answer["token_type"], answer["expires_in"]) == ("bearer", 600)
    identity = await tokens.verify(answer["access_token"])
    assert (identity.sub, identity.tenant, identity.roles) == ("anna", "koeln",
                                                               frozenset({"member"}))

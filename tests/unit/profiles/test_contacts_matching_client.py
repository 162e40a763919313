"""The matching adapter: how its HTTP answers become "match", "no match" or "cannot tell"."""
from __future__ import annotations

import httpx
import pytest

from platform_common.service_identity import CALLER_HEADER, IDENTITY_HEADER
from services.profiles.adapters.matching import MATCHES_LIMIT, MatchingClient
from tests.support.identity import identity_headers, keys_as
from tests.unit.profiles.factories import who

PAIR = {"offer_id": "offer-1", "need_id": "need-1"}


def client(handler) -> MatchingClient:
    return MatchingClient("http://matching.test", keys=keys_as("profiles"), timeout_s=1,
                          transport=httpx.MockTransport(handler))


def signed_anna():
    """Anna's identity as it reached profiles: signed by the gateway for profiles."""
    token = identity_headers("profiles", who("anna", "coesfeld"))[IDENTITY_HEADER]
    return keys_as("profiles").verify_identity(token)


async def ask(matching: MatchingClient) -> bool | None:
    try:
        return await matching.is_current_match(identity=signed_anna(), **PAIR)
    finally:
        await matching.close()


async def test_asks_for_the_offers_matches_with_the_callers_identity():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [
            {"offer_id": "offer-1", "need_id": "other-need", "score": 0.9},
            {"offer_id": "offer-1", "need_id": "need-1", "score": 0.7}]})

    assert await ask(client(handler)) is True
    request = seen[0]
    assert request.url.path == "/offers/offer-1/matches"
    assert request.url.params["limit"] == str(MATCHES_LIMIT)
    # Matching accepts anna's identity because profiles' own credential comes with it.
    matching = keys_as("matching")
    assert matching.verify_caller(request.headers[CALLER_HEADER]) == "profiles"
    identity = matching.verify_identity(request.headers[IDENTITY_HEADER], caller="profiles")
    assert (identity.sub, identity.tenant) == ("anna", "coesfeld")


@pytest.mark.parametrize("response,expected", [
    (httpx.Response(200, json={"items": [{"offer_id": "offer-1", "need_id": "need-2"}]}), False),
    (httpx.Response(200, json={"items": []}), False),
    # The caller owns the need, and none of the offer's suggestions is theirs.
    (httpx.Response(403, json={"error": {"code": "forbidden"}}), False),
    (httpx.Response(404, json={"error": {"code": "not_found"}}), None),
    (httpx.Response(503, json={"error": {"code": "upstream_unavailable"}}), None),
    (httpx.Response(500, text="boom"), None),
    (httpx.Response(200, text="not json"), None),
    (httpx.Response(200, json={"unexpected": True}), None),
])
async def test_answers(response, expected):
    assert await ask(client(lambda request: response)) is expected


async def test_an_unreachable_matching_service_cannot_tell():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    assert await ask(client(refuse)) is None
    assert await ask(client(slow)) is None

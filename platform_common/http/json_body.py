"""Strict JSON request bodies: no duplicate keys, no NaN/Infinity, no absurd nesting.

Python's `json` takes the last of two equal keys (so a check and the stored value may see
different ones), accepts `NaN`, and raises RecursionError (a 500) for a body nested a thousand
deep. Every service's routes parse bodies through `parse_json` (`StrictJsonRoute`), and the
gateway checks forwarded bodies with it, so each of these is a 400 `malformed_json`.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from fastapi import Request, Response
from fastapi.routing import APIRoute

# Deeper than any body of the API (a schedule's date window is 4 levels), far below the
# interpreter's recursion limit.
MAX_JSON_DEPTH = 32


def _without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    document: dict = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"duplicate key {key!r}")
        document[key] = value
    return document


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")


def _depth(document: Any) -> int:
    """How deep arrays and objects nest (a scalar is 0), without recursion."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else \
            value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        pending.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(body: bytes | str) -> Any:
    """The document, or json.JSONDecodeError saying what is wrong with it."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    except UnicodeDecodeError as error:
        raise json.JSONDecodeError(f"not UTF-8 ({error.reason})", "", error.start) from None
    try:
        document = json.loads(text, object_pairs_hook=_without_duplicate_keys,
                              parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", text, 0) from None
    except ValueError as error:  # from the hooks above
        raise json.JSONDecodeError(str(error), text, 0) from None
    if _depth(document) > MAX_JSON_DEPTH:
        raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", text, 0)
    return document


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        # FastAPI turns a JSONDecodeError from here into a 400 `malformed_json`.
        if not hasattr(self, "_strict_json"):
            self._strict_json = parse_json(await self.body())
        return self._strict_json


class StrictJsonRoute(APIRoute):
    """Routes whose JSON bodies are parsed with `parse_json`:
    `APIRouter(route_class=StrictJsonRoute)`."""

    def get_route_handler(self) -> Callable:
        handle = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handle(StrictJsonRequest(request.scope, request.receive))

        return strict_handler

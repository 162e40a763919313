"""The error format as the OpenAPI documents state it: one schema for every error status.

Routes list the statuses they can answer with `responses=error_responses(404, 409)`; every
service document replaces FastAPI's default 422 body (`HTTPValidationError`, which no service
answers with) by the shared `ErrorResponse`.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

ERROR_SCHEMA = "ErrorResponse"
ERROR_REF = f"#/components/schemas/{ERROR_SCHEMA}"
# FastAPI's default validation error schemas; our 422 has the shared format instead.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

ERROR_DESCRIPTIONS = {
    400: "Bad request: malformed JSON or an invalid parameter (e.g. a cursor).",
    401: "Not signed in, or the access token was refused.",
    403: "Signed in, but not allowed to do this.",
    404: "Not found (or not visible to the caller).",
    405: "Method not allowed.",
    409: "Conflict: a stale version (If-Match) or a rule about the current state.",
    413: "The request body is too large.",
    414: "The request URI is too long.",
    415: "Unsupported media type.",
    422: "The request is invalid: one detail per field, with its path.",
    429: "Too many requests: see Retry-After.",
    503: "A service or store is not available right now: try again (see Retry-After).",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "string"}}}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "The authentication scheme (Bearer).",
                                         "schema": {"type": "string"}}}
ERROR_HEADERS = {401: WWW_AUTHENTICATE, 429: RETRY_AFTER, 503: RETRY_AFTER}


class ErrorInfo(BaseModel):
    code: str = Field(description="A stable machine-readable code, e.g. `not_found`.",
                      examples=["not_found"])
    message: str = Field(description="A human-readable explanation.")
    details: Any = Field(description="More about the error (null if nothing): for validation "
                                     "errors a list of `{field, path, message}`.")


class ErrorResponse(BaseModel):
    """Every error: `{"error": {"code", "message", "details"}}`."""

    error: ErrorInfo


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries of a route for the error statuses it can answer with."""
    return {status: error_response(status) for status in statuses}


def answers(model: type[BaseModel] | None, *errors: int, status: int = 200,
            **success: Any) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route: its success body (a model; more OpenAPI fields in `success`,
    e.g. `content` for other media types) and the error statuses it can answer with."""
    entry = {**({"model": model} if model is not None else {}), **success}
    return {status: entry, **error_responses(*errors)}


def error_response(status: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"model": ErrorResponse,
                             "description": ERROR_DESCRIPTIONS.get(status, "Error")}
    if status in ERROR_HEADERS:
        entry["headers"] = ERROR_HEADERS[status]
    return entry


def error_response_document(status: int) -> dict[str, Any]:
    """The same entry as plain OpenAPI (for documents assembled by hand, e.g. the gateway's)."""
    entry: dict[str, Any] = {"description": ERROR_DESCRIPTIONS.get(status, "Error"),
                             "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}}
    if status in ERROR_HEADERS:
        entry["headers"] = ERROR_HEADERS[status]
    return entry


def error_schema_components() -> dict[str, dict]:
    """ErrorResponse and the schemas it refers to, for `components.schemas`."""
    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}",
                                             mode="serialization")  # as FastAPI makes it
    definitions = schema.pop("$defs", {})
    return {**definitions, ERROR_SCHEMA: schema}


def use_error_schema(document: dict) -> dict:
    """The document with every FastAPI validation-error body replaced by ErrorResponse."""
    validation_refs = {f"#/components/schemas/{name}" for name in FASTAPI_VALIDATION_SCHEMAS}
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in (operation.get("responses") or {}).items():
                schema = ((response.get("content") or {}).get("application/json") or {}) \
                    .get("schema") or {}
                if schema.get("$ref") in validation_refs:
                    operation["responses"][status] = error_response_document(int(status))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for name, schema in error_schema_components().items():
        schemas.setdefault(name, schema)
    return document


def document_error_format(app: FastAPI) -> None:
    """app.openapi() states the shared error format (computed once, like FastAPI's own)."""
    default_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = use_error_schema(default_openapi())
        return app.openapi_schema

    app.openapi = openapi

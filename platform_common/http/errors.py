"""One error format for every service: {"error": {"code", "message", "details"}}.

Validation problems become 422 with one detail per field (its path and a message), malformed
JSON becomes 400, and anything unexpected a 500 without internals, logged with its trace id.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from platform_common import errors as domain
from platform_common.observability.logging import get_logger

log = get_logger(__name__)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class ApiError(Exception):
    """Raise from a route or service function to answer with a clean error."""

    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def not_found(what: str, identifier: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} {identifier!r} does not exist")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def conflict(message: str, details: Any = None) -> ApiError:
    return ApiError(409, "conflict", message, details)


def field_error(path: list[str | int], message: str, status: int = 422) -> ApiError:
    return ApiError(status, "validation_error", "The request is invalid.",
                    [{"field": ".".join(map(str, path)), "path": path, "message": message}])


def invalid_cursor(field: str, message: str = "is not a cursor of this list") -> ApiError:
    """One answer for every paged list: a cursor the list did not issue is a 400."""
    return ApiError(400, "invalid_cursor",
                    "The paging cursor is invalid; start again from the first page.",
                    [{"field": field, "path": [field], "message": message}])


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def _validation_details(error: RequestValidationError) -> tuple[bool, list[dict]]:
    details, malformed = [], False
    for item in error.errors():
        loc = [part for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        message = item.get("msg", "invalid value")
        if item.get("type") == "json_invalid":
            # The whole body is at fault, not a field; say why (e.g. "duplicate key 'name'").
            malformed, loc = True, []
            reason = (item.get("ctx") or {}).get("error")
            message = f"{message}: {reason}" if reason else message
        details.append({"field": ".".join(map(str, loc)) or "body", "path": loc,
                        "message": message, "type": item.get("type")})
    return malformed, details


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on this path.

    Starlette's own 405 names only the methods of the first route with this path, while
    FastAPI adds one route per method (`GET /offers/{id}` said `Allow: GET` only)."""
    allowed = []
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


# How the shared domain errors answer over HTTP. A service with errors of its own passes
# their statuses to create_process_app; the most specific class in the error's MRO wins.
DOMAIN_ERROR_STATUS: dict[type[domain.DomainError], int] = {
    domain.DomainError: 400, domain.BadRequest: 400, domain.Unauthorized: 401,
    domain.Forbidden: 403, domain.NotFound: 404, domain.Conflict: 409,
    domain.InvalidInput: 422, domain.Unavailable: 503,
}


def domain_error_status(exc: domain.DomainError,
                        statuses: dict[type[domain.DomainError], int]) -> int:
    for cls in type(exc).__mro__:
        if cls in statuses:
            return statuses[cls]
    return 400


def install_error_handlers(app: FastAPI,
                           error_statuses: dict[type[domain.DomainError], int] | None = None) -> None:
    from platform_common.http.openapi import document_error_format

    document_error_format(app)  # the OpenAPI document states the same format
    statuses = {**DOMAIN_ERROR_STATUS, **(error_statuses or {})}

    @app.exception_handler(domain.DomainError)
    async def _domain_error(_request: Request, exc: domain.DomainError):
        return JSONResponse(error_body(exc.code, exc.message, exc.details),
                            status_code=domain_error_status(exc, statuses))

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        malformed, details = _validation_details(exc)
        if malformed:
            return JSONResponse(error_body("malformed_json", "The request body is not valid JSON.",
                                           details), status_code=400)
        return JSONResponse(error_body("validation_error", "The request is invalid.", details),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
                 403: "forbidden", 413: "payload_too_large", 415: "unsupported_media_type"}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405 and (methods := allowed_methods(request)):
            headers["Allow"] = ", ".join(methods)
        return JSONResponse(error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
                            status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error("unhandled_error", path=request.url.path, error=repr(exc), exc_info=exc)
        return JSONResponse(error_body("internal_error", "Something went wrong on our side."),
                            status_code=500)

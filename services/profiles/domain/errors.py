"""What can go wrong in the domain, independent of HTTP; app.py maps these to responses."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None, *, code: str | None = None):
        super().__init__(message)
        self.message, self.details = message, details
        if code is not None:
            self.code = code


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class VersionConflict(Conflict):
    code = "version_conflict"

    def __init__(self, current_version: int, given_version: int):
        super().__init__(
            f"The entity was changed meanwhile: version {given_version} is stale, "
            f"the current version is {current_version}.",
            {"current_version": current_version, "given_version": given_version})


class Busy(DomainError):
    """Too many conflicting writers right now; the client may retry."""

    status, code = 503, "busy"


class InvalidInput(DomainError):
    """A validation problem found beyond the request schema (e.g. a tenant's category list)."""

    status, code = 422, "validation_error"

    def __init__(self, problems: list[tuple[list[str | int], str]]):
        super().__init__("The request is invalid.", [
            {"field": ".".join(map(str, path)), "path": list(path), "message": message}
            for path, message in problems])


def invalid(path: list[str | int], message: str) -> InvalidInput:
    return InvalidInput([(path, message)])

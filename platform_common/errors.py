"""What can go wrong in a use case, independent of HTTP.

Domains and use cases raise these; each service maps them to responses in one place
(`platform_common/http/errors.py` holds the shared table, a service adds its own classes).
A subclass may change `code` (the machine-readable name clients see) without a new status.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "bad_request"

    def __init__(self, message: str, details: Any = None, *, code: str | None = None):
        super().__init__(message)
        self.message, self.details = message, details
        if code is not None:
            self.code = code


class BadRequest(DomainError):
    """The request cannot be understood as sent (e.g. a paging cursor the list never issued)."""


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"

    @classmethod
    def of(cls, what: str, identifier: str) -> "NotFound":
        return cls(f"{what} {identifier!r} does not exist")


class Conflict(DomainError):
    code = "conflict"


class VersionConflict(Conflict):
    code = "version_conflict"

    def __init__(self, current_version: int, given_version: int):
        super().__init__(
            f"The entity was changed meanwhile: version {given_version} is stale, "
            f"the current version is {current_version}.",
            {"current_version": current_version, "given_version": given_version})


class Unavailable(DomainError):
    """A store or a peer the use case needs is down or too busy right now; retrying may help."""

    code = "service_unavailable"


class Busy(Unavailable):
    """Too many conflicting writers right now; the client may retry."""

    code = "busy"


class InvalidInput(DomainError):
    """A validation problem found beyond the request schema, one entry per field."""

    code = "validation_error"

    def __init__(self, problems: list[tuple[list[str | int], str]]):
        super().__init__("The request is invalid.", [
            {"field": ".".join(map(str, path)), "path": list(path), "message": message}
            for path, message in problems])


def invalid(path: list[str | int], message: str) -> InvalidInput:
    return InvalidInput([(path, message)])


def invalid_cursor(field: str, message: str = "is not a cursor of this list") -> BadRequest:
    """One answer for every paged list: a cursor the list did not issue."""
    return BadRequest("The paging cursor is invalid; start again from the first page.",
                      [{"field": field, "path": [field], "message": message}],
                      code="invalid_cursor")

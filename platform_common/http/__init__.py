from platform_common.http.app import (
    REQUEST_ID_HEADER, create_process_app, create_service_app, current_process,
)
from platform_common.http.errors import (
    ApiError, conflict, error_body, field_error, forbidden, install_error_handlers, not_found,
)
from platform_common.http.openapi import ErrorResponse, answers, error_responses

__all__ = ["ApiError", "ErrorResponse", "REQUEST_ID_HEADER", "answers", "conflict", "create_process_app", "create_service_app", "current_process",
           "error_body", "error_responses", "field_error", "forbidden", "install_error_handlers",
           "not_found"]

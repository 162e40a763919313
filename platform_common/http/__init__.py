from platform_common.http.app import REQUEST_ID_HEADER, create_service_app
from platform_common.http.errors import (
    ApiError, conflict, error_body, field_error, forbidden, install_error_handlers, not_found,
)

__all__ = ["ApiError", "REQUEST_ID_HEADER", "conflict", "create_service_app", "error_body",
           "field_error", "forbidden", "install_error_handlers", "not_found"]

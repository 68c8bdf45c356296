"""API errors with a clear message, mapped to status codes by the app.

ApiError
├── NotFound        404: unknown indicator, unit…; names the valid choices
└── InvalidRequest  422: well-formed but meaningless input (bad range, level…)
"""

from __future__ import annotations


class ApiError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ApiError):
    status_code = 404


class InvalidRequest(ApiError):
    status_code = 422

"""API errors with a clear message, mapped to status codes by the app.

ApiError
├── Unauthorized    401: no API key where one is needed, or an unknown / revoked key
├── Forbidden       403: a valid key whose role may not do this
├── NotFound        404: unknown indicator, unit, alert…; names the valid choices
├── Conflict        409: a state change that the current state does not allow
├── PayloadTooLarge 413: a body over the size limit, or too many events in one batch
├── InvalidRequest  422: well-formed but meaningless input (bad range, level…)
├── TooManyRequests 429: too many failed key checks from one address, or events from one key
└── Unavailable     503: a dependency (database, broker) is down; ``Retry-After`` says when
                    to try again
"""

from __future__ import annotations


class ApiError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(ApiError):
    status_code = 401
    headers = {"WWW-Authenticate": 'Bearer realm="ioc", charset="UTF-8"'}  # noqa: RUF012


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class InvalidRequest(ApiError):
    status_code = 422


class PayloadTooLarge(ApiError):
    status_code = 413


class TooManyRequests(ApiError):
    status_code = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, round(retry_after)))}


class Unavailable(ApiError):
    status_code = 503

    def __init__(self, message: str, retry_after: float = 5) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, round(retry_after)))}

"""A database that is down or saturated is a 503 with ``Retry-After``, never a 500.

The handlers are registered for the exception classes SQLAlchemy raises when it cannot get
or keep a connection, so every route — data routes and the key check alike — answers the
same clear sentence, and uvicorn keeps the client's keep-alive connection (it closes it only
when an exception escapes the app).
"""

from __future__ import annotations

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa

log = structlog.get_logger("api")
RETRY_AFTER_SECONDS = 5

OUTAGE_MESSAGE = (
    "The database is unavailable right now ({what}); nothing was changed. "
    "Try again in a few seconds."
)
BUSY_MESSAGE = (
    "The API is busy: every database connection stayed in use for {seconds:g} s. "
    "Try again in a few seconds."
)


def _unavailable(message: str) -> JSONResponse:
    return JSONResponse(
        {"detail": message},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def is_outage(exc: BaseException) -> bool:
    """A failure to reach or keep the database, as opposed to a bad statement."""
    if isinstance(exc, sa.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc.orig, psycopg.OperationalError | psycopg.InterfaceError
        )
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def install(app: FastAPI, *, pool_timeout: float) -> None:
    """Map database outages and pool exhaustion to 503, NUL-bearing values to 422."""

    async def on_dbapi_error(request: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            log.warning("database unavailable", route=request.url.path, error=type(exc).__name__)
            return _unavailable(OUTAGE_MESSAGE.format(what=type(exc).__name__))
        if isinstance(exc, sa.DataError | sa.StatementError) and "NUL" in str(exc):
            return JSONResponse(
                {"detail": "A value holds a NUL character (\\u0000), which no field takes."},
                status_code=422,
            )
        raise exc  # a bug, not an outage: the default 500 (and its traceback) stays

    async def on_pool_timeout(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database pool exhausted", route=request.url.path)
        return _unavailable(BUSY_MESSAGE.format(seconds=pool_timeout))

    async def on_driver_error(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable", route=request.url.path, error=type(exc).__name__)
        return _unavailable(OUTAGE_MESSAGE.format(what=type(exc).__name__))

    app.add_exception_handler(sa.DBAPIError, on_dbapi_error)
    app.add_exception_handler(sa.StatementError, on_dbapi_error)
    app.add_exception_handler(sa.TimeoutError, on_pool_timeout)
    app.add_exception_handler(psycopg.OperationalError, on_driver_error)
    app.add_exception_handler(psycopg.InterfaceError, on_driver_error)

"""Which failures are worth waiting out, and how long to wait between attempts.

A *transient* failure is the database or the broker being unreachable (or busy): the same
batch will succeed once it is back, so the worker waits, however long that takes. Anything
else is a fault of the data, and the writer isolates the one message that caused it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import psycopg
from aiokafka.errors import KafkaError, KafkaTimeoutError
from sqlalchemy import exc as sa_exc
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential


def is_transient_database_error(exc: BaseException) -> bool:
    """The database is down, restarting, out of connections or overloaded: wait and retry."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        (
            sa_exc.OperationalError,
            sa_exc.InterfaceError,
            sa_exc.TimeoutError,  # no pooled connection came free in time
            psycopg.OperationalError,  # raised unwrapped by COPY on the driver connection
            psycopg.InterfaceError,
            ConnectionError,
            TimeoutError,
            asyncio.TimeoutError,
        ),
    )


def is_transient_broker_error(exc: BaseException) -> bool:
    """The broker is unreachable or has no leader for a while (every Kafka error the client
    itself marks retriable, plus connection and request time-outs)."""
    if isinstance(exc, KafkaTimeoutError):  # a send or metadata wait that found no broker
        return True
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))


def is_transient(exc: BaseException) -> bool:
    return is_transient_database_error(exc) or is_transient_broker_error(exc)


BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0

OnWait = Callable[[str, BaseException, int, float], None]
"""Told (dependency, error, attempt number, seconds until the next attempt) before a wait."""


def dependency_of(exc: BaseException) -> str:
    return "broker" if is_transient_broker_error(exc) else "database"


def wait_out(
    on_wait: OnWait | None = None,
    *,
    stop: asyncio.Event | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    retry_on: Callable[[BaseException], bool] = is_transient,
) -> AsyncRetrying:
    """The one retry policy of ingest and the API: retry transient failures (``retry_on``)
    for as long as they last, waiting 0.5 s, 1 s, 2 s … up to 30 s between attempts; give
    up only once ``stop`` is set (the last error is then raised). Anything else is raised
    at once.

    Usage: ``await wait_out(health.waiting, stop=stop)(fn, *args)``.
    """

    async def interruptible_sleep(seconds: float) -> None:
        if stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    def before_sleep(state: RetryCallState) -> None:
        if on_wait is None or state.outcome is None:
            return
        error = state.outcome.exception()
        delay = state.next_action.sleep if state.next_action else 0.0
        if error is not None:
            on_wait(dependency_of(error), error, state.attempt_number, delay)

    return AsyncRetrying(
        retry=retry_if_exception(retry_on),
        wait=wait_exponential(multiplier=BACKOFF_FIRST_S, min=BACKOFF_FIRST_S, max=BACKOFF_MAX_S),
        stop=lambda _: stop is not None and stop.is_set(),
        sleep=sleep or interruptible_sleep,
        before_sleep=before_sleep,
        reraise=True,
    )

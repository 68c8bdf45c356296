"""Which failures are worth waiting out, and how long to wait between attempts.

A *transient* failure is the database or the broker being unreachable (or busy): the same
batch will succeed once it is back, so the worker waits, however long that takes. Anything
else is a fault of the data, and the writer isolates the one message that caused it.
"""

from __future__ import annotations

import asyncio

import psycopg
from aiokafka.errors import KafkaError, KafkaTimeoutError
from sqlalchemy import exc as sa_exc


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

"""The engine: one place that knows how we talk to PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from models.settings import normalise_database_url

POOL_SIZE = 10
"""Connections kept open per process: a 2-core database answers about that many at once."""
MAX_OVERFLOW = 10
"""Extra connections opened under a burst, closed again when returned."""
POOL_TIMEOUT_SECONDS = 30.0
"""How long a request waits in line for a connection before it is refused (503, not 500)."""


def make_engine(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    pool_timeout: float = POOL_TIMEOUT_SECONDS,
) -> AsyncEngine:
    """An engine whose statements are planned for their own parameters, every time.

    psycopg prepares a statement after it has run five times on a connection, and PostgreSQL
    then switches a prepared statement to a generic plan, made without the parameter
    values: for a year of roll-ups that plan (a nested loop over every commune-hour) took
    3.1 s where the plan for the actual values took 0.25 s. Not preparing at all
    (``prepare_threshold=None``) keeps every execution on a custom plan; parsing is a small
    cost next to planning, which a custom plan repeats anyway.
    """
    return create_async_engine(
        normalise_database_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        connect_args={"prepare_threshold": None},
    )


async def at_rest(engine: AsyncEngine, quiet_s: float = 3.0, limit_s: float = 300.0) -> float:
    """Seconds until no transaction has committed for ``quiet_s`` (the snapshot a new
    transaction gets stays the same), at most ``limit_s``: after a load, the API's live
    stream goes on publishing its reaction to it for a while: a measurement on data at rest
    starts once that is done."""
    started = time.monotonic()
    async with engine.connect() as conn:
        last, since = None, time.monotonic()
        while time.monotonic() - started < limit_s:
            snapshot = await conn.scalar(text("SELECT pg_current_snapshot()::text"))
            await conn.rollback()
            if snapshot != last:
                last, since = snapshot, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                break
            await asyncio.sleep(0.1)
    return round(time.monotonic() - started, 1)

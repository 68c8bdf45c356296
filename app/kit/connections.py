"""Dedicated database connections, outside the SQLAlchemy pool: for what holds one
connection for the API's lifetime (the live stream's LISTEN, the evaluator's advisory lock,
the snapshot reads of :mod:`app.kit.snapshots`)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import psycopg
from sqlalchemy.engine import make_url


def conninfo(database_url: str) -> str:
    """The SQLAlchemy URL as a libpq URI (psycopg takes no ``+driver``)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def connect(database_url: str) -> psycopg.AsyncConnection[Any]:
    """A dedicated autocommit connection, outside the pool.

    A cancel (the app stopping) while it is being made lets the attempt finish and closes
    the connection, rather than leaving it open to the garbage collector."""
    attempt = asyncio.ensure_future(
        psycopg.AsyncConnection.connect(conninfo(database_url), autocommit=True)
    )
    try:
        return await asyncio.shield(attempt)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await (await attempt).close()
        raise

"""How a read reaches the database: one snapshot per answer.

Kept apart from :mod:`app.kit.db` (the request dependencies) so that the answer cache can
use it without importing the application's resources.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


@lru_cache(maxsize=16)
def repeatable_read(engine: AsyncEngine) -> AsyncEngine:
    """``engine``, its transactions begun ``REPEATABLE READ`` (said in the BEGIN itself: no
    statement of its own). Made once per engine: an options copy is about a tenth of a
    kept answer's cost, made per request."""
    return engine.execution_options(isolation_level="REPEATABLE READ")


@lru_cache(maxsize=16)
def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` without transactions: each statement sees the database as of its start."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


SNAPSHOT = "SELECT pg_current_snapshot()::text"
"""Which commits a statement sees: two with the same snapshot see the same rows."""


async def snapshot_of(conn: AsyncConnection) -> str:
    """``conn``'s snapshot, straight through psycopg: through SQLAlchemy's statement
    machinery this one look-up was a quarter of a kept answer's CPU."""
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    return str((await (await driver.execute(SNAPSHOT)).fetchone())[0])


@dataclass(frozen=True, slots=True)
class Reads:
    """A read route's way to the database when its answer may be kept
    (:mod:`app.kit.answers`): the database's snapshot now, read without a transaction (a
    kept answer is then served with no BEGIN or COMMIT at all), or, to compute an answer,
    one ``REPEATABLE READ`` transaction, opened and committed by the route itself."""

    engine: AsyncEngine

    async def snapshot(self) -> str:
        async with autocommit(self.engine).connect() as conn:
            return await snapshot_of(conn)

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return repeatable_read(self.engine).begin()

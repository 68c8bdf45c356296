"""The request's database connection: one transaction per request, at the edge.

A read (``GET``, ``HEAD``) runs in ``REPEATABLE READ``: every statement of its answer sees
the same snapshot, so a batch committed between a ratio's numerator and its denominator
cannot put them out of step, and the answer can be kept under that snapshot
(:mod:`app.kit.answers`). Writes keep PostgreSQL's default, ``READ COMMITTED``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.resources import EngineDep

READS = frozenset({"GET", "HEAD"})


@lru_cache(maxsize=16)
def repeatable_read(engine: AsyncEngine) -> AsyncEngine:
    """``engine``, its transactions begun ``REPEATABLE READ`` (said in the BEGIN itself: no
    statement of its own). Made once per engine: an options copy is about a tenth of a
    kept answer's cost, made per request."""
    return engine.execution_options(isolation_level="REPEATABLE READ")


async def _connection(engine: EngineDep, request: Request) -> AsyncIterator[AsyncConnection]:
    if request.method in READS:
        engine = repeatable_read(engine)
    async with engine.begin() as conn:
        yield conn


ConnDep = Annotated[AsyncConnection, Depends(_connection, scope="function")]
"""Committed before the response is sent (``scope="function"``): a commit that fails is the
request's error (a 503 when the database went away), never a 200 for a change not kept."""

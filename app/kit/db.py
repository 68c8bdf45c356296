"""The request's database connection: one transaction per request, at the edge.

A read (``GET``, ``HEAD``) runs in ``REPEATABLE READ``: every statement of its answer sees
the same snapshot, so a batch committed between a ratio's numerator and its denominator
cannot put them out of step, and the answer can be kept under that snapshot
(:mod:`app.kit.answers`). Writes keep PostgreSQL's default, ``READ COMMITTED``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.snapshots import Reads, repeatable_read
from app.resources import EngineDep, ResourcesDep

READS = frozenset({"GET", "HEAD"})


async def get_reads(resources: ResourcesDep) -> Reads:
    return Reads(resources.engine, resources.snapshots)


ReadsDep = Annotated[Reads, Depends(get_reads)]
"""For the routes whose answers may be kept: they open their transaction only when an
answer has to be computed (:meth:`app.kit.answers.AnswerCache.served`)."""


async def _connection(engine: EngineDep, request: Request) -> AsyncIterator[AsyncConnection]:
    if request.method in READS:
        engine = repeatable_read(engine)
    async with engine.begin() as conn:
        yield conn


ConnDep = Annotated[AsyncConnection, Depends(_connection, scope="function")]
"""Committed before the response is sent (``scope="function"``): a commit that fails is the
request's error (a 503 when the database went away), never a 200 for a change not kept."""

"""The request's database connection: one transaction per request, at the edge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncConnection

from app.resources import EngineDep


async def _connection(engine: EngineDep) -> AsyncIterator[AsyncConnection]:
    async with engine.begin() as conn:
        yield conn


ConnDep = Annotated[AsyncConnection, Depends(_connection, scope="function")]
"""Committed before the response is sent (``scope="function"``): a commit that fails is the
request's error (a 503 when the database went away), never a 200 for a change not kept."""

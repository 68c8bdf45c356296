"""The request's database connection: one transaction per request, at the edge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


async def _connection(request: Request) -> AsyncIterator[AsyncConnection]:
    engine: AsyncEngine = request.app.state.engine
    async with engine.begin() as conn:
        yield conn


ConnDep = Annotated[AsyncConnection, Depends(_connection, scope="function")]
"""Committed before the response is sent (``scope="function"``): a commit that fails is the
request's error (a 503 when the database went away), never a 200 for a change not kept."""

"""A request's transaction: a read sees one snapshot of the database from its first
statement to its last (``REPEATABLE READ``), a write keeps PostgreSQL's default, and the
connection goes back to the pool at the default for whoever takes it next."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from app.kit.db import _connection

pytestmark = pytest.mark.integration

ISOLATION = text("SHOW transaction_isolation")


def _request(method: str) -> Request:
    return Request({"type": "http", "method": method, "path": "/", "headers": []})


@pytest.mark.parametrize(
    ("method", "expected"),
    [("GET", "repeatable read"), ("HEAD", "repeatable read"), ("POST", "read committed")],
)
async def test_a_read_sees_one_snapshot_and_a_write_the_default(
    engine: AsyncEngine, method: str, expected: str
) -> None:
    async for conn in _connection(engine, _request(method)):
        assert await conn.scalar(ISOLATION) == expected
        assert conn.in_transaction()
    async with engine.connect() as after:  # the pool's next taker gets the default again
        assert await after.scalar(ISOLATION) == "read committed"

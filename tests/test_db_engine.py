"""The engine: statements are planned for their own values, never from a cached generic plan."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from models.db import make_engine

pytestmark = pytest.mark.integration


async def test_statements_are_never_prepared_so_plans_fit_their_values(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            for _ in range(8):  # psycopg would prepare after five executions
                await conn.execute(
                    text("SELECT count(*) FROM pg_class WHERE relname = :n"), {"n": "x"}
                )
            prepared = await conn.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared == 0
    finally:
        await engine.dispose()

"""The connection pool under pressure: requests wait their turn, and a long wait is a 503."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from models.db import make_engine

pytestmark = pytest.mark.integration


async def test_a_request_that_cannot_get_a_connection_is_told_to_retry(
    api: Any, database_url: str
) -> None:
    app = api.app
    busy = make_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    kept = app.state.engine
    app.state.engine = busy
    try:
        async with busy.connect() as held:  # the pool's only connection, taken
            await held.execute(text("SELECT 1"))
            answer = await api.get("/api/v1/indicators/health.encounters/values")
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        after = await api.get("/api/v1/indicators/health.encounters/values")
        assert after.status_code == 200  # the connection is back: served again
    finally:
        app.state.engine = kept
        await busy.dispose()


async def test_statements_are_never_prepared_so_plans_fit_their_values(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            for _ in range(8):  # psycopg would prepare after five executions
                await conn.execute(
                    text("SELECT count(*) FROM admin_unit WHERE level = :l"), {"l": "x"}
                )
            prepared = await conn.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared == 0
    finally:
        await engine.dispose()

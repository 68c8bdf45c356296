"""Table statistics refreshed by ingest (``ingest.statistics``): a table at half of
autovacuum's analyze threshold is analyzed in a transaction that logs it changed nothing an
answer reads, so kept answers outlive it, where autovacuum's own analyze would have sent
every one of them back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.statistics import STATISTICS_LOCK, refresh_statistics
from tests.test_answers_across_commits import ATTEMPTS, snapshot, unlogged_commit_since

pytestmark = pytest.mark.integration

PROBE = "public.statistics_probe"


@pytest.fixture
async def probe(clean_db: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A table of the test's own, dropped after it."""
    async with clean_db.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {PROBE} (n int)"))
    try:
        yield clean_db
    finally:
        async with clean_db.begin() as conn:
            await conn.execute(text(f"DROP TABLE {PROBE}"))


async def changed(engine: AsyncEngine, rows: int) -> None:
    """Insert ``rows`` rows into the probe and wait until the server's statistics count them
    (a backend reports its counts when idle, at most once a second)."""
    async with engine.connect() as conn:
        await conn.execute(text(f"INSERT INTO {PROBE} SELECT generate_series(1, {rows})"))
        await conn.commit()
        await conn.execute(text("SELECT pg_stat_force_next_flush()"))
        await conn.commit()
    for _ in range(100):
        if await modified(engine) >= rows:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the server's statistics never counted {rows} rows in {PROBE}")


async def modified(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        found = await conn.scalar(
            text(
                "SELECT n_mod_since_analyze FROM pg_stat_user_tables"
                " WHERE schemaname = 'public' AND relname = 'statistics_probe'"
            )
        )
    return int(found or 0)


async def test_a_table_due_is_analyzed_in_a_logged_transaction(probe: AsyncEngine) -> None:
    for _ in range(ATTEMPTS):  # autovacuum may commit (unlogged) between the snapshots
        await changed(probe, 200)
        start = await snapshot(probe)
        analyzed = await refresh_statistics(probe)
        assert PROBE in analyzed
        assert await modified(probe) == 0  # analyzed: nothing modified since
        if not await unlogged_commit_since(probe, start):
            break
    else:
        raise AssertionError("every refresh was followed by an unlogged commit")
    assert "public.change_log" not in analyzed  # its storage parameters: never analyzed
    # The same analyze run as autovacuum runs it, with no change-log row: an unlogged commit.
    await changed(probe, 200)
    start = await snapshot(probe)
    async with probe.connect() as conn:
        await conn.execute(text(f"ANALYZE {PROBE}"))
        await conn.commit()
    assert await unlogged_commit_since(probe, start)


async def test_a_table_below_half_its_threshold_waits(probe: AsyncEngine) -> None:
    # Never analyzed: autovacuum's threshold is 50 rows, so half of it is 25.
    await changed(probe, 10)
    assert PROBE not in await refresh_statistics(probe)
    await changed(probe, 20)
    assert PROBE in await refresh_statistics(probe)


async def test_a_busy_table_and_a_round_held_elsewhere_are_left_for_later(
    probe: AsyncEngine,
) -> None:
    await changed(probe, 200)
    async with probe.connect() as other:
        await other.execute(text(f"LOCK TABLE {PROBE} IN SHARE UPDATE EXCLUSIVE MODE"))
        assert PROBE not in await refresh_statistics(probe)  # waits 1 s for it, then skips
        await other.rollback()
        await other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": STATISTICS_LOCK})
        assert await refresh_statistics(probe) == []  # another worker's round
        await other.rollback()
    assert PROBE in await refresh_statistics(probe)


async def test_the_catalogues_ddl_changes_are_analyzed_too(clean_db: AsyncEngine) -> None:
    """Partitions made and each session's staging tables change the system catalogues, which
    autovacuum analyzes as well (an unlogged commit like any other)."""
    async with clean_db.connect() as conn:
        for i in range(300):
            await conn.execute(text(f"CREATE TEMP TABLE catalogue_churn_{i} (n int)"))
            await conn.execute(text(f"DROP TABLE catalogue_churn_{i}"))
        await conn.commit()
        await conn.execute(text("SELECT pg_stat_force_next_flush()"))
        await conn.commit()
    for _ in range(100):
        async with clean_db.connect() as conn:
            await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            n = await conn.scalar(
                text(
                    "SELECT n_mod_since_analyze FROM pg_stat_sys_tables WHERE relname = 'pg_class'"
                )
            )
        if n >= 600:
            break
        await asyncio.sleep(0.1)
    assert "pg_catalog.pg_class" in await refresh_statistics(clean_db)

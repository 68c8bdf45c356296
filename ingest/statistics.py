"""Table statistics refreshed by ingest before autovacuum would, in a logged transaction.

Why: autovacuum's ``ANALYZE`` commits a transaction that writes no change-log row
(``models.tables.changes``), and the API must count such a commit as having changed
anything. After a backfill, each table's analyze therefore sent every kept answer (last
year's months, the rankings) back to be computed afresh: in the year benchmark, 32 of them
while 50 clients asked, p95 1,284 ms where kept answers gave 70 ms. Statistics change plans,
never results, so an ``ANALYZE`` in a transaction that logs "nothing an answer reads" keeps
every kept answer. Ingest runs it for each table that has reached half of autovacuum's own
analyze threshold (the server's settings, or the table's storage parameters), so autovacuum
finds nothing left to analyze, except where a table grows by more than the other half
between two rounds (a bulk load, whose commits change answers anyway). Transaction ids are
the cluster's, so autovacuum's analyze of another database (``template1``'s catalogues,
once, on a new cluster) still counts as a change; that one is out of this database's reach.

Several workers may run it: one at a time does (an advisory lock), the others skip the
round. A table it cannot lock within a second (autovacuum is vacuuming it) waits for the
next round.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.tables.changes import log_change

log = structlog.get_logger("ingest")

STOP_WAIT_S = 10.0
"""How long a stopping worker waits for the round in progress before cancelling it."""

EVERY_S = 30.0
"""How often the tables due are looked for: half autovacuum's default nap."""

DUE_FRACTION = 0.5
"""A table is due at this fraction of autovacuum's analyze threshold."""

LOCK_NOT_AVAILABLE = "55P03"
"""SQLSTATE of a lock not taken within ``lock_timeout``."""

STATISTICS_LOCK = 1_296_130
"""Advisory lock key: one worker at a time refreshes statistics."""

DUE = """
SELECT format('%I.%I', s.schemaname, s.relname)
FROM pg_stat_all_tables s
JOIN pg_class c ON c.oid = s.relid
LEFT JOIN LATERAL (
    SELECT max(o.option_value::float8) FILTER (
               WHERE o.option_name = 'autovacuum_analyze_threshold') AS threshold,
           max(o.option_value::float8) FILTER (
               WHERE o.option_name = 'autovacuum_analyze_scale_factor') AS scale_factor
    FROM pg_options_to_table(c.reloptions) o
) own ON true
WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND s.schemaname <> 'pg_toast'
  AND c.oid <> 'pg_catalog.pg_statistic'::regclass
  AND pg_has_role(c.relowner, 'USAGE')
  AND s.n_mod_since_analyze > :fraction * (
    coalesce(own.threshold, current_setting('autovacuum_analyze_threshold')::float8)
  + coalesce(own.scale_factor, current_setting('autovacuum_analyze_scale_factor')::float8)
    * greatest(c.reltuples, 0))
ORDER BY s.n_mod_since_analyze DESC
"""
"""The tables due (schema-qualified, quoted), the most changed first: autovacuum's analyze
threshold, ``threshold + scale factor × rows``, taken at :data:`DUE_FRACTION`. The system
catalogues too: partitions made and each new session's staging tables (``ingest.staging``)
change ``pg_class``, ``pg_attribute``… and autovacuum analyzes those as well. Temporary
tables are left out (no other session's can be analyzed, and a session's own die with it),
and so are ``pg_statistic``, which PostgreSQL never analyzes, and the tables this role may
not analyze (owned by a role it is not a member of: a superuser owns the catalogues)."""


async def refresh_statistics(
    engine: AsyncEngine, fraction: float = DUE_FRACTION, stop: asyncio.Event | None = None
) -> list[str]:
    """Analyze the tables due, each in a transaction of its own that logs it changed nothing
    an answer reads; return the tables analyzed (none when another worker holds the round).

    A transaction per table, not one for all: a table whose lock is not free within a
    second rolls back alone, with nothing committed (a savepoint would not do: its
    subtransaction commits under an id of its own, with no change-log row), and each
    table's lock is held for its own analyze only. Once ``stop`` is set, the tables left
    wait: a stopping worker waits for one ``ANALYZE`` at most."""
    analyzed: list[str] = []
    async with engine.connect() as conn:
        if not await conn.scalar(select(func.pg_try_advisory_lock(STATISTICS_LOCK))):
            await conn.rollback()
            return analyzed
        try:
            due = (await conn.execute(text(DUE), {"fraction": fraction})).scalars().all()
            await conn.commit()
            for table in due:
                if stop is not None and stop.is_set():
                    break
                try:
                    async with conn.begin():
                        await conn.execute(text("SET LOCAL lock_timeout = '1s'"))
                        await conn.execute(text(f"ANALYZE {table}"))
                        await log_change(conn)
                except DBAPIError as exc:
                    if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                        raise
                    log.info("table busy, its statistics left for the next round", table=table)
                    continue
                analyzed.append(table)
        finally:
            await conn.execute(select(func.pg_advisory_unlock(STATISTICS_LOCK)))
            await conn.commit()
    return analyzed


async def keep_statistics(engine: AsyncEngine, stop: asyncio.Event) -> None:
    """:func:`refresh_statistics` every :data:`EVERY_S` until ``stop``; a failed round is
    logged and the next one tried (statistics are an optimisation: ingest goes on)."""
    while not stop.is_set():
        try:
            analyzed = await refresh_statistics(engine, stop=stop)
        except Exception as exc:
            log.warning("table statistics not refreshed, tried again later", error=repr(exc))
        else:
            if analyzed:
                log.debug("table statistics refreshed", tables=analyzed)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), EVERY_S)


@contextlib.asynccontextmanager
async def statistics_kept(engine: AsyncEngine) -> AsyncIterator[None]:
    """:func:`keep_statistics` beside the body (an ingest worker's loop, the harness's
    writer); on leaving, the round in progress ends after its current ``ANALYZE``, or is
    cancelled after :data:`STOP_WAIT_S` (a database gone)."""
    done = asyncio.Event()
    refreshing = asyncio.create_task(keep_statistics(engine, done))
    try:
        yield
    finally:
        done.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(refreshing, STOP_WAIT_S)

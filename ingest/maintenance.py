"""Keep event-table partitions ahead of need, drop raw events (and their dedupe keys) past
retention, and prune the change log (``models.tables.changes``).

Run by every ingest worker at start and then hourly (idempotent, so several workers may run
it), and on demand with ``ioc db maintain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ingest.spec import table_of
from ingest.tables import EVENT_TABLES
from models.partitions import (
    drop_chunks_before,
    drop_partitions_before,
    ensure_month_partitions,
    is_partitioned,
    month_start,
    next_month,
)
from models.tables import ChangeLog, EventKey
from models.tables.changes import KEEP, log_change


@dataclass
class Maintenance:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    chunks_dropped: int = 0
    keys_dropped: int = 0
    changes_dropped: int = 0


async def _is_hypertable(conn: AsyncConnection, table: str) -> bool:
    has_timescale = await conn.scalar(
        text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
    )
    if not has_timescale:
        return False
    found = await conn.scalar(
        text("SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = :t"),
        {"t": table},
    )
    return bool(found)


async def maintain(
    engine: AsyncEngine,
    *,
    now: datetime,
    retention_days: int | None,
    months_ahead: int = 1,
) -> Maintenance:
    """Create this month's and the next ``months_ahead`` partitions; drop expired ones."""
    report = Maintenance()
    months = [month_start(now)]
    for _ in range(months_ahead):
        months.append(next_month(months[-1]))
    cutoff = now - timedelta(days=retention_days) if retention_days else None
    for spec in EVENT_TABLES.values():
        table = spec.table.name
        async with engine.begin() as conn:
            if await is_partitioned(conn, table):
                await lock_partitions(conn, table)
                created = await ensure_month_partitions(conn, table, months)
                dropped = await drop_partitions_before(conn, table, cutoff) if cutoff else []
                if created and not dropped:  # empty partitions change no answer
                    await log_change(conn)
                report.created += created
                report.dropped += dropped
            elif cutoff and await _is_hypertable(conn, table):
                report.chunks_dropped += await drop_chunks_before(conn, table, cutoff)
    if cutoff:
        async with engine.begin() as conn:
            report.keys_dropped = await drop_keys_before(conn, month_start(cutoff))
    async with engine.begin() as conn:
        report.changes_dropped = await drop_changes_before(conn, now - KEEP)
    return report


async def lock_partitions(conn: AsyncConnection, table: str) -> None:
    """Take the transaction's lock on making or dropping ``table``'s partitions. Workers
    (and their hourly upkeep) make the partitions their events need: two making the same
    one at once would both find it missing and one fail on the catalogue ("already
    exists"), so they take turns; the second then finds it made."""
    await conn.execute(select(func.pg_advisory_xact_lock(PARTITION_LOCK, func.hashtext(table))))


PARTITION_LOCK = 1_296_129
"""The first key of the partition locks (:func:`lock_partitions`), the table's hash the second."""


async def drop_changes_before(conn: AsyncConnection, before: datetime) -> int:
    """Change-log rows logged before ``before``; the pruning logs that it changed nothing an
    answer reads (otherwise, as any unlogged commit, it would send every kept answer back)."""
    log = table_of(ChangeLog)
    result = await conn.execute(delete(log).where(log.c.logged_at < before))
    dropped = result.rowcount or 0
    if dropped:
        await log_change(conn)
    return dropped


async def drop_keys_before(conn: AsyncConnection, before: datetime) -> int:
    """Dedupe keys go with their events: those of events before the first month kept (no
    event that old passes validation any more, the time window being capped by retention)."""
    keys = table_of(EventKey)
    result = await conn.execute(delete(keys).where(keys.c.occurred_at < before))
    return result.rowcount or 0

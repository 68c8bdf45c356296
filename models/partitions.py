"""Time partitions for event tables: monthly native range partitions, created ahead of need.

When TimescaleDB is present the event tables are hypertables instead and this module has
nothing to do (chunks are created by the extension).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def partition_name(table: str, start: datetime) -> str:
    return f"{table}_y{start.year:04d}m{start.month:02d}"


async def is_partitioned(conn: AsyncConnection, table: str) -> bool:
    """True for a native partitioned table; False for a hypertable or plain table."""
    kind = await conn.scalar(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    )
    return bool(kind == "p")


async def ensure_month_partitions(
    conn: AsyncConnection, table: str, moments: Iterable[datetime]
) -> list[str]:
    """Create the monthly partitions that ``moments`` fall in; return the names created."""
    created = []
    for start in sorted({month_start(m) for m in moments}):
        name = partition_name(table, start)
        exists = await conn.scalar(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name})
        if exists:
            continue
        await conn.execute(
            text(
                f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table}" '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{next_month(start).isoformat()}')"
            )
        )
        created.append(name)
    return created

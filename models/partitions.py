"""Time partitions for event tables: monthly native range partitions, created ahead of need.

When TimescaleDB is present the event tables are hypertables instead and this module has
nothing to do (chunks are created by the extension).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_PARTITION = re.compile(r"y(\d{4})m(\d{2})")


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


async def month_partitions(conn: AsyncConnection, table: str) -> list[tuple[str, datetime]]:
    """The monthly partitions of ``table`` that this module made, with their month start."""
    names = await conn.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t) ORDER BY c.relname"
        ),
        {"t": table},
    )
    found = []
    for name in names:
        match = _PARTITION.fullmatch(name.removeprefix(f"{table}_"))
        if match:
            found.append((name, datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)))
    return found


async def drop_partitions_before(conn: AsyncConnection, table: str, cutoff: datetime) -> list[str]:
    """Drop the partitions whose whole month ends before ``cutoff``; return their names.

    Roll-ups and lifecycle states are kept: indicators over old periods stay available,
    only the raw events go.
    """
    dropped = []
    for name, start in await month_partitions(conn, table):
        if next_month(start) <= cutoff:
            await conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
            dropped.append(name)
    return dropped


async def drop_chunks_before(conn: AsyncConnection, table: str, cutoff: datetime) -> int:
    """The TimescaleDB equivalent: drop the hypertable's chunks older than ``cutoff``."""
    dropped = await conn.scalars(
        text("SELECT drop_chunks(CAST(:t AS regclass), older_than => CAST(:c AS timestamptz))"),
        {"t": table, "c": cutoff},
    )
    return len(list(dropped))

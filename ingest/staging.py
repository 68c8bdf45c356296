"""Staging tables: how a batch's rows reach PostgreSQL as one set.

Every set-based write of a batch (events, roll-up deltas, lifecycle and freshness deltas)
copies its rows with binary ``COPY`` into a per-session temporary table that empties on
commit, then runs one statement built once and kept as SQL text. The helpers for that
live here, shared by :mod:`ingest.store` and :mod:`ingest.store_rollups`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Dialect, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from ingest.spec import Row

_PG_ALIASES = {"float": "float8"}


def pg_type(col: Column[Any], dialect: Dialect) -> str:
    """The type name psycopg's binary COPY needs, from the column's DDL type."""
    name = col.type.compile(dialect=dialect).split("(")[0].lower()
    return _PG_ALIASES.get(name, name)


async def run(conn: AsyncConnection, sql: str, params: dict[str, Any] | None = None) -> None:
    """Run SQL text built once on the connection's driver, in its transaction (no
    statement building or result processing per batch)."""
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection
    async with pg.cursor() as cur:
        await cur.execute(sql, params)


def text_of(stmt: Any, dialect: Dialect) -> str:
    """A statement without parameters as SQL text, its few constants inlined."""
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


_INTEGER_TYPES = frozenset({"bigint", "integer", "smallint"})


async def copy_staged(
    conn: AsyncConnection, table: Table, columns: list[Column[Any]], rows: list[Row]
) -> None:
    """``rows`` copied (binary ``COPY``) into the session's staging table for ``table``."""
    name = staging_name(table)
    types = [pg_type(c, conn.dialect) for c in columns]
    # Measures may come as floats (or bools) into integer columns: round them as
    # PostgreSQL's assignment cast would.
    whole = [t in _INTEGER_TYPES for t in types]
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection
    async with pg.cursor() as cur:
        await cur.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{name}" '
            f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
        )
        names = ", ".join(f'"{c.name}"' for c in columns)
        async with cur.copy(f'COPY "{name}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types(types)
            for row in rows:
                await copy.write_row(
                    [
                        _whole(row[c.name]) if w else row[c.name]
                        for c, w in zip(columns, whole, strict=True)
                    ]
                )


def staging_name(table: Table) -> str:
    """The session's staging table for deltas bound for ``table``."""
    return f"staging_{table.name}"


def _whole(value: Any) -> Any:
    return round(value) if isinstance(value, float) else value

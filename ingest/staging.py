"""Staging tables: how a batch's rows reach PostgreSQL as one set.

Every set-based write of a batch (events, roll-up deltas, lifecycle and freshness deltas)
copies its rows with binary ``COPY`` into a per-session temporary table that empties on
commit, then runs one statement built once and kept as SQL text. The helpers for that
live here, shared by :mod:`ingest.store` and :mod:`ingest.store_rollups`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Column, Dialect, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from ingest.spec import Row
from models.tables.changes import log_change

_PG_ALIASES = {"float": "float8"}


def pg_type(col: Column[Any], dialect: Dialect) -> str:
    """The type name psycopg's binary COPY needs, from the column's DDL type."""
    name = col.type.compile(dialect=dialect).split("(")[0].lower()
    return _PG_ALIASES.get(name, name)


Statement = tuple[str, dict[str, Any] | None]
"""SQL text built once and its parameters: a statement staged now, run later in the batch."""


class Earliest(NamedTuple):
    """A staged query of the earliest moment some of the batch's rows count at (one value,
    NULL for none), for the transaction's change-log row (``models.tables.changes``)."""

    sql: str
    params: dict[str, Any] | None


async def run(conn: AsyncConnection, sql: str, params: dict[str, Any] | None = None) -> Any:
    """Run SQL text built once on the connection's driver, in its transaction (no
    statement building or result processing per batch); the first value of its first row,
    when it returns rows."""
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection
    async with pg.cursor() as cur:
        await cur.execute(sql, params)
        if cur.description is None:
            return None
        row = await cur.fetchone()
        return None if row is None else row[0]


def text_of(stmt: Any, dialect: Dialect) -> str:
    """A statement without parameters as SQL text, its few constants inlined."""
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


_INTEGER_TYPES = frozenset({"bigint", "integer", "smallint"})


async def copy_staged(
    conn: AsyncConnection, table: Table, columns: list[Column[Any]], rows: list[Row]
) -> None:
    """``rows`` copied (binary ``COPY``) into the session's staging table for ``table``."""
    names = [c.name for c in columns]
    await copy_values(conn, table, columns, [[row[n] for n in names] for row in rows])


async def copy_values(
    conn: AsyncConnection,
    table: Table,
    columns: list[Column[Any]],
    rows: Iterable[Sequence[Any]],
) -> None:
    """Rows given as values in the order of ``columns``, copied (binary ``COPY``) into the
    session's staging table for ``table``."""
    name = staging_name(table)
    types = [pg_type(c, conn.dialect) for c in columns]
    # Measures may come as floats (or bools) into integer columns: round them as
    # PostgreSQL's assignment cast would.
    whole = [i for i, t in enumerate(types) if t in _INTEGER_TYPES]
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection
    async with pg.cursor() as cur:
        await create_staging(cur, table)
        names = ", ".join(f'"{c.name}"' for c in columns)
        async with cur.copy(f'COPY "{name}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types(types)
            for values in rows:
                if whole:
                    values = list(values)
                    for i in whole:
                        if isinstance(values[i], float):
                            values[i] = round(values[i])
                await copy.write_row(values)


def staging_ddl(table: Table) -> str:
    """The statement making the session's staging table for ``table`` (emptied at each
    commit) if it is missing."""
    return (
        f'CREATE TEMP TABLE IF NOT EXISTS "{staging_name(table)}" '
        f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
    )


_MADE: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
"""Per driver connection: the staging tables made in a transaction that committed (a
temporary table lives as long as its session, unless the transaction making it is rolled
back: only committed ones are remembered)."""


async def create_staging(cur: Any, table: Table) -> None:
    """The session's staging table for ``table`` (emptied at each commit), made if missing."""
    await create_temp(cur, staging_name(table), staging_ddl(table))


async def create_temp(cur: Any, name: str, ddl: str) -> None:
    """Run ``ddl`` (making the session's temporary table ``name`` if missing) unless the
    session is known to have it (:func:`make_staging`): a catalogue look-up and a notice
    saved per table and batch."""
    if name not in _MADE.get(cur.connection, ()):
        await cur.execute(ddl)


async def make_staging(conn: AsyncConnection, ddls: Mapping[str, str]) -> None:
    """Make the session's temporary tables ``ddls`` gives (name → statement) that it is not
    known to have, in a transaction of their own, committed: the batches that follow on
    this connection skip their statements (:func:`create_temp`)."""
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection
    made = _MADE.setdefault(pg, set())
    missing = sorted(ddls.keys() - made)
    if not missing:
        return
    async with conn.begin():
        for name in missing:
            await run(conn, ddls[name])
        # A session's own tables change no answer (models.tables.changes).
        await log_change(conn)
    made.update(missing)


def staging_name(table: Table) -> str:
    """The session's staging table for deltas bound for ``table``."""
    return f"staging_{table.name}"

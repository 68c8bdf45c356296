"""The machine's ceilings for ingest, measured in the same run as the pipeline itself.

- ``copy_rows_per_s``: binary ``COPY`` of event rows into an unlogged-free staging table, in
  transactions of one batch: what PostgreSQL can take with no work done per row.
- ``decode_per_s``: raw CloudEvents bytes parsed and validated by the ingest validator, in
  one process, a batch at a time as the worker does: what one worker can read before it
  writes anything, the broker left out (``bench.pipeline`` measures it with the broker).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.deadletter import RawMessage
from ingest.tables import EVENT_TABLES
from ingest.validation import Validator
from ingest.writer import collector_paused


async def copy_ceiling(engine: AsyncEngine, messages: list[RawMessage], size: int) -> float:
    """Rows per second of binary COPY of these events' rows, ``size`` rows a transaction."""
    validator = Validator()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for msg in messages:
        event = validator.parse(msg.value)
        spec = EVENT_TABLES[event.event_type.type]
        by_type.setdefault(spec.table.name, []).append(spec.to_row(event))
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        pg: Any = raw.driver_connection
        await pg.set_autocommit(True)
        try:
            total, seconds = 0, 0.0
            for name, rows in by_type.items():
                columns = list(rows[0])
                async with pg.cursor() as cur:
                    await cur.execute(
                        f'CREATE TEMP TABLE IF NOT EXISTS "ceiling_{name}" '
                        f'(LIKE "{name}" INCLUDING DEFAULTS)'
                    )
                    types = await _types(cur, name, columns)
                    started = time.perf_counter()
                    for first in range(0, len(rows), size):
                        async with pg.transaction():
                            names = ", ".join(f'"{c}"' for c in columns)
                            sql = f'COPY "ceiling_{name}" ({names}) FROM STDIN (FORMAT BINARY)'
                            async with cur.copy(sql) as copy:
                                copy.set_types(types)
                                for row in rows[first : first + size]:
                                    await copy.write_row([row[c] for c in columns])
                    seconds += time.perf_counter() - started
                    total += len(rows)
                    await cur.execute(f'DROP TABLE "ceiling_{name}"')
        finally:
            await pg.set_autocommit(False)
    return total / seconds


async def _types(cur: Any, table: str, columns: list[str]) -> list[str]:
    await cur.execute(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0",
        (table,),
    )
    found = dict(await cur.fetchall())
    return [found[c] for c in columns]


def decode_ceiling(messages: list[RawMessage], size: int = 2000) -> float:
    """Messages per second parsed and validated by one process, ``size`` at a time, as a
    worker validates a batch (:meth:`Validator.parse_many`, the cycle collector paused)."""
    validator = Validator()
    started = time.perf_counter()
    for first in range(0, len(messages), size):
        with collector_paused():
            validator.parse_many([m.value for m in messages[first : first + size]])
    return len(messages) / (time.perf_counter() - started)

"""Bench: where one writer's database time goes, statement by statement.

    ./run python bench/ingest_statements.py [--scale 0.5] [--days 3]

Simulated days of every stream (as ``bench/ingest_writer.py --scale`` writes them) through
one :class:`~ingest.writer.Writer` on a throw-away PostgreSQL; the first day warms the
caches, the others are measured. Every statement and ``COPY`` the writer sends is timed
(wall time, awaited in turn, so the database's work on it plus the round trip) through a
cursor class set on its connections, and summed per target table: microseconds per event,
largest first, beside the writer's own CPU time per event.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncCursor
from sqlalchemy import event

from bench.ingest_support import bench_database
from bench.ingest_writer import simulated
from ingest.writer import Writer

SPENT: Counter[str] = Counter()
CALLS: Counter[str] = Counter()
_TARGET = re.compile(r'\b(INSERT INTO|COPY|UPDATE|DELETE FROM)\s+"?(\w+)')


def label(sql: Any) -> str:
    """The statement's kind and the first table it writes other than a staging table it
    empties (for a statement whose CTEs write several, the one it is built for: a roll-up's
    hourly table, a lifecycle's state table; the events' key table with the event table),
    else its first words."""
    text = " ".join(str(sql).split()).replace("DO UPDATE SET", "")
    found = _TARGET.findall(text)
    if not found:
        return text[:60]
    kept = [f for f in found if f[0] == "COPY" or not f[1].startswith("staging_")]
    kind, table = (kept or found)[0]
    if table == "event_key" and len(found) > 1:
        return f"{kind} event_key + {found[-1][1]}"
    return f"{kind} {table}"


class TimedCursor(AsyncCursor[Any]):
    """A cursor that adds each statement's wall time to :data:`SPENT`."""

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await super().execute(query, params, **kwargs)
        finally:
            SPENT[label(query)] += time.perf_counter() - started
            CALLS[label(query)] += 1

    @asynccontextmanager
    async def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        started = time.perf_counter()
        async with super().copy(statement, params, **kwargs) as copy:
            yield copy
        SPENT[label(statement)] += time.perf_counter() - started
        CALLS[label(statement)] += 1


async def main(scale: float, days: int) -> None:
    messages = simulated(scale, days)
    async with bench_database() as engine:

        @event.listens_for(engine.sync_engine, "connect")
        def timed(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.driver_connection.cursor_factory = TimedCursor

        await engine.dispose()  # connections made from here on time their statements
        writer = Writer(engine)
        for day in messages[:1]:
            for i in range(0, len(day), 2000):
                await writer.write(day[i : i + 2000])
        SPENT.clear()
        CALLS.clear()
        events = sum(len(d) for d in messages[1:])
        wall, cpu = time.perf_counter(), time.process_time()
        for day in messages[1:]:
            for i in range(0, len(day), 2000):
                await writer.write(day[i : i + 2000])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per = 1e6 / events
    print(
        f"{events:,} events in {wall:.1f} s ({events / wall:,.0f}/s); writer CPU "
        f"{cpu * per:.1f} µs/event; statements {sum(SPENT.values()) * per:.1f} µs/event"
    )
    for name, seconds in SPENT.most_common(20):
        print(f"{seconds * per:8.1f} µs/event  {CALLS[name]:5d} calls  {name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.scale, args.days))

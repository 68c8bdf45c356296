"""Bench: how to write a batch idempotently — binary COPY into a staging table then
INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING (what ingest does) against a multi-row
INSERT … ON CONFLICT DO NOTHING RETURNING.

    ./run python bench/ingest_insert_vs_copy.py [--batches 10] [--size 2000]

Starts an embedded PostgreSQL under a temporary folder, writes the same batches of health
encounters both ways (new events, then the same events again as a replay) and prints events/s
and the COPY ÷ INSERT ratio.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.ingest_support import bench_database, run
from ingest import store
from ingest.streams import HEALTH_ENCOUNTERS
from models.events import validate_event
from models.partitions import ensure_month_partitions
from tests import ingest_builders as b

Row = dict[str, Any]
TABLE = HEALTH_ENCOUNTERS.table


def batches(n: int, size: int) -> list[list[Row]]:
    t0 = datetime(2025, 3, 3, tzinfo=UTC)
    out = []
    for k in range(n):
        docs = [b.encounter(t0 + timedelta(seconds=k * size + i), i) for i in range(size)]
        out.append([HEALTH_ENCOUNTERS.to_row(validate_event(d)) for d in docs])
    return out


async def by_insert(conn: AsyncConnection, rows: list[Row]) -> int:
    """The alternative: a multi-row INSERT … ON CONFLICT DO NOTHING RETURNING."""
    stmt = insert(TABLE).on_conflict_do_nothing().returning(*TABLE.c)
    return len((await conn.execute(stmt, rows)).all())


async def by_copy(conn: AsyncConnection, rows: list[Row]) -> int:
    """What ingest does (``ingest.store.insert_events``): binary COPY to staging + INSERT."""
    return len(await store.insert_events(conn, HEALTH_ENCOUNTERS, rows))


async def timed(
    engine: AsyncEngine,
    work: list[list[Row]],
    write: Callable[[AsyncConnection, list[Row]], Awaitable[int]],
) -> tuple[float, int]:
    started = time.perf_counter()
    inserted = 0
    for rows in work:
        async with engine.begin() as conn:
            inserted += await write(conn, rows)
    return time.perf_counter() - started, inserted


async def main(n: int, size: int) -> None:
    work = batches(n, size)
    total = n * size
    async with bench_database() as engine:
        async with engine.begin() as conn:
            await ensure_month_partitions(conn, "health_encounter", [work[0][0]["occurred_at"]])
        results = {}
        for name, write in (("insert", by_insert), ("copy", by_copy)):
            async with engine.begin() as conn:
                await conn.execute(text("TRUNCATE health_encounter"))
            new_s, new_n = await timed(engine, work, write)
            again_s, again_n = await timed(engine, work, write)
            assert (new_n, again_n) == (total, 0), (name, new_n, again_n)
            results[name] = (new_s, again_s)
            print(
                f"{name:>6}: new {total / new_s:>9,.0f} events/s   "
                f"replay {total / again_s:>9,.0f} events/s"
            )
        (i_new, i_again), (c_new, c_again) = results["insert"], results["copy"]
        print(
            f"copy ÷ insert throughput: new {i_new / c_new:.2f}×, "
            f"replay {i_again / c_again:.2f}×  ({n} batches of {size})"
        )


if __name__ == "__main__":
    run(__doc__ or "", main)

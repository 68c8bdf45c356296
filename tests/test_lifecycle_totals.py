"""Lifecycle running totals stay exactly a count of the state rows, whatever order the
events come in, and the migration counts the same from the state rows already stored."""

from __future__ import annotations

import importlib.util
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ingest.store_lifecycle import moments
from ingest.tables import EVENT_TABLES
from ingest.writer import RawMessage, Writer
from models.clock import LOCAL_TZ
from models.events import dump_event
from models.tables import LifecycleDaily
from simulators.runner import collect
from simulators.streams import make_streams
from tests.helpers import write_docs

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 14, tzinfo=UTC)
END = datetime(2025, 3, 6, 4, tzinfo=UTC)
STATES = [spec.lifecycle.table for spec in EVENT_TABLES.values() if spec.lifecycle]


async def _recounted(conn: AsyncConnection) -> set[tuple[Any, ...]]:
    """Every state row's moments counted by local day, from the state tables themselves."""
    parts = []
    for state in STATES:
        for name, at in moments(state.c).items():
            day = func.date_trunc("day", at, LOCAL_TZ)
            parts.append(
                select(literal(state.name), literal(name), day, state.c.commune_code, func.count())
                .where(at.is_not(None))
                .group_by(day, state.c.commune_code)
            )
    return {tuple(r) for r in await conn.execute(union_all(*parts))}


async def _kept(conn: AsyncConnection) -> set[tuple[Any, ...]]:
    t = LifecycleDaily.__table__
    rows = select(t.c.state_table, t.c.moment, t.c.bucket_start, t.c.commune_code, t.c.entities)
    return {tuple(r) for r in await conn.execute(rows.where(t.c.entities != 0))}


async def test_running_totals_equal_a_count_of_the_state_rows(clean_db: AsyncEngine) -> None:
    docs = [
        d
        for d in collect(make_streams(seed=13, scale=0.1), START, END)
        if "dossier" in d["type"] or "citizen" in d["type"]
    ]
    rng = random.Random(8)
    late = rng.sample(docs, len(docs) // 5)  # earlier steps arriving after later ones
    on_time = [d for d in docs if d not in late]
    rng.shuffle(on_time)
    repeats = rng.sample(docs, len(docs) // 10)
    stream = on_time + repeats + late
    await write_docs(clean_db, stream, batch=300)
    async with clean_db.connect() as conn:
        expected = await _recounted(conn)
        assert {r[1] for r in expected} == {"received", "done", "due", "due_or_done"}
        assert await _kept(conn) == expected


async def test_the_migration_counts_what_ingest_keeps(clean_db: AsyncEngine) -> None:
    docs = collect(make_streams(seed=3, scale=0.1), START, END)
    await Writer(clean_db).write(
        [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    )
    path = Path(__file__).parents[1] / "alembic" / "versions" / "0011_lifecycle_daily.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    migration: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert set(migration.STATES) == {t.name for t in STATES}
    async with clean_db.begin() as conn:
        kept = await _kept(conn)
        assert kept
        await conn.execute(text("TRUNCATE lifecycle_daily"))
        for table, (completion, due) in migration.STATES.items():
            await conn.execute(text(migration.backfill(table, completion, due)))
        assert await _kept(conn) == kept

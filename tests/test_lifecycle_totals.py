"""Lifecycle running totals per unit and day stay exactly a count of the state rows through
the closure table, in both hierarchies, whatever order the events come in (late, repeated);
the migration counts the same from the state rows already stored; the catalogue filters
completions only by the columns they are counted by."""

from __future__ import annotations

import importlib.util
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ingest.store_lifecycle import day_moments
from ingest.tables import EVENT_TABLES
from ingest.writer import RawMessage, Writer
from models.catalogue import CATALOGUE, check_metric
from models.clock import LOCAL_TZ
from models.events import dump_event
from models.indicators import Metric
from models.tables import LIFECYCLE_UNIT_DAILY, AdminUnitClosure
from models.tables.lifecycle_totals import KEPT, KEPT_COLUMNS, KEY
from simulators.runner import collect
from simulators.streams import make_streams
from tests.helpers import write_docs
from tests.test_rollup_tiers import _write_side_by_side

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 14, tzinfo=UTC)
END = datetime(2025, 3, 6, 4, tzinfo=UTC)
STATES = [spec.lifecycle.table for spec in EVENT_TABLES.values() if spec.lifecycle]


async def _recounted(conn: AsyncConnection) -> set[tuple[Any, ...]]:
    """Every state row's moments counted by unit holding its commune and local day, from
    the state tables and the closure table themselves."""
    closure = AdminUnitClosure.__table__
    out = set()
    for state in STATES:
        for name, (at, dims) in day_moments(state.c, state).items():
            day = func.date_trunc("day", at, LOCAL_TZ)
            keys = (closure.c.hierarchy, closure.c.ancestor_code, day, *dims)
            rows = await conn.execute(
                select(*keys, func.count())
                .select_from(state.join(closure, closure.c.descendant_code == state.c.commune_code))
                .where(at.is_not(None))
                .group_by(*keys)
            )
            kept = {d.name for d in dims}
            for hierarchy, unit, bucket, *values, n in rows:
                by_name = dict(zip([d.name for d in dims], values, strict=True))
                cols = tuple(by_name[k] if k in kept else None for k in KEPT)
                out.add((state.name, name, hierarchy, unit, bucket, *cols, n))
    return out


async def _kept(conn: AsyncConnection) -> set[tuple[Any, ...]]:
    t = LIFECYCLE_UNIT_DAILY
    rows = select(*(t.c[k] for k in (*KEY, *KEPT)), t.c.entities)
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
        assert {r[1] for r in expected} == {"received", "done", "due", "due_or_done", "completed"}
        assert {r[2] for r in expected} == {"2020", "2025"}
        assert await _kept(conn) == expected


async def test_two_writers_at_once_keep_the_running_totals_exact(clean_db: AsyncEngine) -> None:
    docs = [
        d
        for d in collect(make_streams(seed=15, scale=0.1), START, END)
        if "dossier" in d["type"] or "citizen" in d["type"]
    ]
    random.Random(10).shuffle(docs)  # later steps before earlier ones, on either writer
    await _write_side_by_side(clean_db, docs)
    async with clean_db.connect() as conn:
        expected = await _recounted(conn)
        assert {r[2] for r in expected} == {"2020", "2025"}
        assert await _kept(conn) == expected


async def test_the_migration_counts_what_ingest_keeps(clean_db: AsyncEngine) -> None:
    docs = collect(make_streams(seed=3, scale=0.1), START, END)
    await Writer(clean_db).write(
        [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    )
    path = Path(__file__).parents[1] / "alembic" / "versions" / "0014_lifecycle_unit_daily.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    migration: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert set(migration.STATES) == {t.name for t in STATES}
    assert migration.KEPT == KEPT_COLUMNS
    assert tuple(migration.KEPT_TYPES) == KEPT
    async with clean_db.begin() as conn:
        kept = await _kept(conn)
        assert {r[1] for r in kept} == {"received", "done", "due", "due_or_done", "completed"}
        await conn.execute(text(f"TRUNCATE {LIFECYCLE_UNIT_DAILY.name}"))
        for table, (completion, due) in migration.STATES.items():
            await conn.execute(
                text(migration.backfill(table, completion, due, KEPT_COLUMNS[table]))
            )
        assert await _kept(conn) == kept


def test_the_catalogue_filters_completions_by_every_kept_column_and_no_other() -> None:
    used: dict[str, set[str]] = {}
    for indicator in CATALOGUE:
        for metric in (indicator.numerator, indicator.denominator):
            for part in (metric, *metric.plus) if metric else ():
                if part.kind in ("received_in_period", "completed_in_period"):
                    cols = used.setdefault(str(part.rollup), set())
                    cols |= {*part.filters, *part.unless}
    assert {state: set(cols) for state, cols in KEPT_COLUMNS.items()} == used
    unkept = Metric(kind="completed_in_period", rollup="citizen_report", filters={"stage": "x"})
    with pytest.raises(ValueError, match="not counted by stage"):
        check_metric("citizen.test", unkept)
    unless = Metric(kind="completed_in_period", rollup="citizen_report", unless={"stage": "x"})
    with pytest.raises(ValueError, match="not counted by stage"):
        check_metric("citizen.test", unless)
    for kind in ("open_at_start", "open_at_end", "open_overdue_at_end"):
        filtered = Metric(kind=kind, rollup="citizen_report", filters={"rating": "like"})
        with pytest.raises(ValueError, match="takes no filters"):
            check_metric("citizen.test", filtered)

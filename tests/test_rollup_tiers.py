"""Day tiers stay exactly their hours summed by local day, whatever order the data comes in."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import random
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, Select, Table, cast, func, inspect, literal, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ingest.writer import RawMessage, Writer
from models.catalogue import CATALOGUE
from models.clock import LOCAL_TZ
from models.events import dump_event
from models.tables import (
    HOUR_MASK,
    TIERS,
    AdminUnitClosure,
    additive_measures,
    keeps_hour_mask,
    unit_dims,
)
from simulators.runner import collect
from simulators.streams import make_streams
from tests.helpers import write_docs

pytestmark = pytest.mark.integration

# Local 21:00 on 3 March to 11:00 on 5 March: two local midnights inside, hours on both sides.
START = datetime(2025, 3, 3, 14, tzinfo=UTC)
END = datetime(2025, 3, 5, 4, tzinfo=UTC)


def _summed_by_day(hourly: Table, *, hour_mask: bool) -> Select[tuple[object, ...]]:
    """The hourly table summed by local day, as the day tier must hold it (with the mask
    of the local hours that had rows where the tier keeps one)."""
    key = [c for c in hourly.primary_key if c.name != "bucket_start"]
    latest = [c for c in hourly.c if c.name.startswith("latest_") and c.name != "latest_at"]
    measures = [
        c
        for c in hourly.c
        if not c.primary_key and c not in latest and c.name not in ("updated_at", "latest_at")
    ]
    day = func.date_trunc("day", hourly.c.bucket_start, LOCAL_TZ).label("bucket_start")
    columns = [day, *key, *(func.sum(c).label(c.name) for c in measures)]
    columns.append(func.max(hourly.c.updated_at).label("updated_at"))
    if "latest_at" in hourly.c:
        columns.append(func.max(hourly.c.latest_at).label("latest_at"))
        newest_first = hourly.c.latest_at.desc()
        columns += [
            func.array_agg(aggregate_order_by(c, newest_first))[1].label(c.name) for c in latest
        ]
    if hour_mask:
        hour = cast(func.extract("hour", func.timezone(LOCAL_TZ, hourly.c.bucket_start)), Integer)
        columns.append(func.bit_or(literal(1).op("<<")(hour)).label(HOUR_MASK))
    return select(*columns).group_by(day, *key)


def _same(expected: dict[str, object], got: dict[str, object]) -> bool:
    for name, value in expected.items():
        other = got[name]
        if isinstance(value, float) or isinstance(other, float):
            if not math.isclose(float(value), float(other), rel_tol=1e-9, abs_tol=1e-9):  # type: ignore[arg-type]
                return False
        elif value != other:
            return False
    return True


async def test_day_tiers_equal_their_hours_after_late_shuffled_and_repeated_data(
    clean_db: AsyncEngine,
) -> None:
    docs = collect(make_streams(seed=11, scale=0.05), START, END)
    rng = random.Random(5)
    late = rng.sample(docs, len(docs) // 10)  # held back, sent after everything else
    on_time = [d for d in docs if d not in late]
    rng.shuffle(on_time)  # out of order within and across batches
    repeats = rng.sample(docs, len(docs) // 10)  # sent again: must count once
    stream = on_time + repeats[: len(repeats) // 2] + late + repeats[len(repeats) // 2 :]
    await write_docs(clean_db, stream, batch=700)

    async with clean_db.connect() as conn:
        for hourly_name, tiers in TIERS.items():
            summed = _summed_by_day(tiers.hour, hour_mask=keeps_hour_mask(tiers.day))
            expected = [dict(r._mapping) for r in await conn.execute(summed)]
            got = [dict(r._mapping) for r in await conn.execute(select(tiers.day))]
            key = [c.name for c in tiers.day.primary_key]
            by_key = {tuple(r[k] for k in key): r for r in got}
            assert len(got) == len(expected), hourly_name
            assert expected, f"{hourly_name}: the stream should have fed it"
            for row in expected:
                found = by_key[tuple(row[k] for k in key)]
                assert _same(row, found), (hourly_name, row, found)


def _summed_by_unit(day: Table, unit_day: Table) -> Select[tuple[object, ...]]:
    """The day tier summed per (hierarchy, ancestor of the commune, day, dims), as the unit
    day tier must hold it."""
    closure = AdminUnitClosure.__table__
    dims = [day.c[c.name] for c in unit_day.primary_key if c.name in day.c]
    measures = [func.sum(day.c[m]).label(m) for m in additive_measures(unit_day)]
    keys = [closure.c.hierarchy, closure.c.ancestor_code.label("unit_code"), *dims]
    return (
        select(*keys, *measures)
        .select_from(day.join(closure, closure.c.descendant_code == day.c.commune_code))
        .group_by(*keys)
    )


async def _source_masks_match(conn: Any) -> None:
    """Each source's day mask is the OR of its day tier's masks (all event types and
    communes) that day."""
    tiers = TIERS["source_hourly"]
    assert tiers.source_day_mask is not None
    day = tiers.day
    expected = select(day.c.source, day.c.bucket_start, func.bit_or(day.c[HOUR_MASK])).group_by(
        day.c.source, day.c.bucket_start
    )
    masks = tiers.source_day_mask
    got = select(masks.c.source, masks.c.bucket_start, masks.c[HOUR_MASK])
    want = sorted((await conn.execute(expected)).all())
    assert want, "the stream should have fed the source masks"
    assert sorted((await conn.execute(got)).all()) == want


async def _unit_tiers_match(conn: Any) -> None:
    await _source_masks_match(conn)
    checked = 0
    for hourly_name, tiers in TIERS.items():
        if tiers.unit_day is None:
            continue
        expected = [
            dict(r._mapping) for r in await conn.execute(_summed_by_unit(tiers.day, tiers.unit_day))
        ]
        got = [dict(r._mapping) for r in await conn.execute(select(tiers.unit_day))]
        key = [c.name for c in tiers.unit_day.primary_key]
        by_key = {tuple(r[k] for k in key): r for r in got}
        assert len(got) == len(expected), hourly_name
        for row in expected:
            found = by_key[tuple(row[k] for k in key)]
            assert _same(row, found), (hourly_name, row, found)
        levels = {r["unit_code"] for r in got}
        assert "49" in levels or len(levels) > 1, hourly_name
        checked += len(expected) > 0
    assert checked >= 8, "the stream should have fed most unit day tiers"


async def test_unit_day_tiers_equal_their_communes_days_summed_through_the_closure(
    clean_db: AsyncEngine,
) -> None:
    docs = collect(make_streams(seed=12, scale=0.05), START, END)
    rng = random.Random(6)
    late = rng.sample(docs, len(docs) // 10)
    on_time = [d for d in docs if d not in late]
    rng.shuffle(on_time)
    repeats = rng.sample(docs, len(docs) // 10)
    stream = on_time + repeats + late
    writer = Writer(clean_db)
    for start in range(0, len(stream), 900):
        batch = stream[start : start + 900]
        await writer.write(
            [RawMessage("t", 0, start + i, None, dump_event(d)) for i, d in enumerate(batch)]
        )
    async with clean_db.connect() as conn:
        await _unit_tiers_match(conn)


def _migration(name: str) -> object:
    path = Path(__file__).parents[1] / "alembic" / "versions" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def columns_and_key(conn: AsyncConnection, table: str) -> tuple[list[str], list[str]]:
    """A table's column names and primary key, as the database has them."""
    return await conn.run_sync(
        lambda sync: (
            [c["name"] for c in inspect(sync).get_columns(table)],
            inspect(sync).get_pk_constraint(table)["constrained_columns"],
        )
    )


async def test_the_migration_fills_day_tiers_as_ingest_keeps_them(clean_db: AsyncEngine) -> None:
    docs = collect(make_streams(seed=3, scale=0.03), START, END)
    await Writer(clean_db).write(
        [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    )
    migration: Any = _migration("0006_day_tiers.py")
    masks: Any = _migration("0009_source_hour_mask.py")
    assert set(migration.DAY_TIERS.items()) == {(h, t.day.name) for h, t in TIERS.items()}
    async with clean_db.begin() as conn:
        kept = {n: (await conn.execute(select(t.day))).all() for n, t in TIERS.items()}
        for hourly, daily in migration.DAY_TIERS.items():
            columns, key = await columns_and_key(conn, hourly)
            await conn.execute(text(f'TRUNCATE "{daily}"'))
            await conn.execute(text(migration._backfill(hourly, daily, columns, key)))
        await conn.execute(text(masks.BACKFILL))
        for name, tiers in TIERS.items():
            filled = (await conn.execute(select(tiers.day))).all()
            assert sorted(filled) == sorted(kept[name]), name


async def test_the_migration_fills_unit_day_tiers_as_ingest_keeps_them(
    clean_db: AsyncEngine,
) -> None:
    docs = collect(make_streams(seed=3, scale=0.03), START, END)
    await Writer(clean_db).write(
        [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    )
    migration: Any = _migration("0013_unit_day_tiers.py")
    declared = {t.day.name: t.unit_day.name for t in TIERS.values() if t.unit_day is not None}
    assert declared == migration.UNIT_DAY_TIERS
    units = [t for t in TIERS.values() if t.unit_day is not None]
    kept_dims = {t.day.name: tuple(unit_dims(t.unit_day)) for t in units if t.unit_day is not None}
    assert kept_dims == migration.UNIT_DAY_DIMS
    measured = lambda t: [c for c in t.c if c.name != "updated_at"]  # noqa: E731
    async with clean_db.begin() as conn:
        units = {t.unit_day.name: t.unit_day for t in TIERS.values() if t.unit_day is not None}
        kept = {n: (await conn.execute(select(*measured(t)))).all() for n, t in units.items()}
        assert any(kept.values())
        for daily, unit_daily in migration.UNIT_DAY_TIERS.items():
            columns, key = await columns_and_key(conn, daily)
            await conn.execute(text(f'TRUNCATE "{unit_daily}"'))
            dims, measures = migration.UNIT_DAY_DIMS[daily], migration.measures_of(columns, key)
            await conn.execute(text(migration.backfill(daily, unit_daily, dims, measures)))
        for name, table in units.items():  # the same rows (sums of floats to 1e-9)
            filled = (await conn.execute(select(*measured(table)))).all()
            assert len(filled) == len(kept[name]), name
        await conn.execute(text("TRUNCATE source_day_mask"))
        await conn.execute(text(migration.SOURCE_MASKS))
        await _unit_tiers_match(conn)


def test_unit_day_tiers_keep_every_column_indicators_sum_and_filter_on() -> None:
    """An indicator summing a roll-up finds its measure and filters in the unit day tier
    (else its answers fall back to the commune day tier through the closure)."""
    parts = [
        part
        for indicator in CATALOGUE
        for metric in (indicator.numerator, indicator.denominator)
        if metric is not None
        for part in (metric, *metric.plus)
        if part.kind == "sum"
    ]
    assert parts
    for part in parts:
        unit_day = TIERS[str(part.rollup)].unit_day
        assert unit_day is not None, part.rollup
        assert str(part.measure) in unit_day.c, (part.rollup, part.measure)
        assert set(part.filters) <= set(unit_day.c.keys()), (part.rollup, part.filters)


async def _write_side_by_side(engine: AsyncEngine, docs: list[dict[str, Any]]) -> None:
    """``docs`` split by source into two partitions (as a keyed producer spreads them), each
    written by its own writer in batches, both at once: their batches' transactions overlap
    and share communes' and units' day rows."""
    parts: list[list[dict[str, Any]]] = [[], []]
    for doc in docs:
        parts[zlib.crc32(str(doc["source"]).encode()) % 2].append(doc)
    assert all(parts), "both partitions should carry sources"

    async def one(part: int) -> None:
        writer = Writer(engine)
        stream = parts[part]
        for start in range(0, len(stream), 300):
            batch = stream[start : start + 300]
            result = await writer.write(
                [RawMessage("t", part, start + i, None, dump_event(d)) for i, d in enumerate(batch)]
            )
            assert not result.rejected, result.rejected

    await asyncio.gather(one(0), one(1))


async def test_two_writers_at_once_keep_every_tier_exact(clean_db: AsyncEngine) -> None:
    docs = collect(make_streams(seed=14, scale=0.05), START, END)
    random.Random(9).shuffle(docs)
    await _write_side_by_side(clean_db, docs)
    async with clean_db.connect() as conn:
        await _unit_tiers_match(conn)
        events = await conn.scalar(text("SELECT sum(events) FROM source_daily"))
        assert events == len({(d["source"], d["id"]) for d in docs})

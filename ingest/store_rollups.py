"""Roll-up deltas of one ingest batch, into every tier of each roll-up.

A batch's new events are summed per finest bucket here (the measures are functions of an
event row, declared in the stream's spec), copied once into a staging table, and one
statement upserts them into the finest tier and, summed per coarser bucket in SQL, into
every coarser tier :mod:`models.tables.tiers` declares. Kept apart from
:mod:`ingest.store` because this SQL (the tiers, their keys and hour masks) changes with
the query side's needs, the rest of the batch's writes do not.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Dialect,
    Integer,
    Select,
    Table,
    case,
    cast,
    column,
    delete,
    extract,
    func,
    literal,
    select,
)
from sqlalchemy import (
    table as sql_table,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ingest.spec import Rollup, Row
from ingest.staging import Statement, copy_values, run, staging_name, text_of
from models.clock import LOCAL_TZ
from models.tables import (
    HOUR_MASK,
    AdminUnitClosure,
    Grain,
    additive_measures,
    keeps_hour_mask,
    tiers_of,
    unit_dims,
)

_CLOSURE = AdminUnitClosure.__table__


def rollup_deltas(
    rollup: Rollup, rows: Iterable[Row], grain: Grain = Grain.HOUR
) -> list[tuple[Any, ...]]:
    """Sum measures per (bucket of ``grain``, commune, dims), plus the bucket's newest reading
    for gauges: one tuple per bucket, in the order of :func:`_delta_columns`.

    Hour buckets are keyed by whole hours since the epoch (exact integer arithmetic, the
    same instant as :func:`~models.clock.floor_hour`) and each bucket's sums kept in a list:
    per event, no datetime is built and no dict is made."""
    dims, fns = rollup.dims, tuple(rollup.measures.values())
    latest = tuple(rollup.latest.values())
    n = len(fns)
    hourly = grain is Grain.HOUR
    floor = grain.floor
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        at = row["occurred_at"]
        bucket = (at - _EPOCH) // _HOUR if hourly else floor(at)
        key = (bucket, row["commune_code"], *[row[d] for d in dims])
        acc = sums.get(key)
        if acc is None:
            acc = sums[key] = [0 + f(row) for f in fns]
            if latest:
                acc.append(at)
                acc.extend(row[src] for src in latest)
            continue
        for j, f in enumerate(fns):
            acc[j] += f(row)
        if latest and at >= acc[n]:
            acc[n] = at
            acc[n + 1 :] = [row[src] for src in latest]
    order = _delta_order(rollup)
    out = []
    for key, acc in sums.items():
        start = _EPOCH + key[0] * _HOUR if hourly else key[0]
        values = (start, *key[1:], *acc)
        out.append(tuple(values[k] for k in order))
    return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR = timedelta(hours=1)


def _delta_order(rollup: Rollup) -> list[int]:
    """Where each of :func:`_delta_columns` is in (bucket, commune, dims, measures, latest)."""
    made = ["bucket_start", "commune_code", *rollup.dims, *rollup.measures]
    if rollup.latest:
        made += ["latest_at", *rollup.latest]
    return [made.index(name) for name in _delta_columns(rollup)]


def _rollup_set(rollup: Rollup, table: Table, ex: Any) -> dict[str, Any]:
    """How a bucket row takes a delta: measures add up, a newer reading replaces the latest."""
    set_: dict[str, Any] = {m: table.c[m] + ex[m] for m in rollup.measures}
    if rollup.latest:
        newer = ex.latest_at >= table.c.latest_at
        set_.update({c: case((newer, ex[c]), else_=table.c[c]) for c in rollup.latest})
        set_["latest_at"] = func.greatest(table.c.latest_at, ex.latest_at)
    if keeps_hour_mask(table):
        set_[HOUR_MASK] = table.c[HOUR_MASK].op("|")(ex[HOUR_MASK])
    set_["updated_at"] = func.now()
    return set_


def _delta_columns(rollup: Rollup) -> list[str]:
    """The columns of one finest-tier delta row, in the roll-up table's order."""
    names = {"bucket_start", "commune_code", *rollup.dims, *rollup.measures}
    if rollup.latest:
        names |= {"latest_at", *rollup.latest}
    return [c.name for c in rollup.table.c if c.name in names]


def _bucket_of(grain: Grain, moment: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQL for :attr:`Grain.floor`: the ``bucket_start`` of the tier row ``moment`` is in."""
    if grain is Grain.HOUR:
        return func.date_trunc("hour", moment)
    return func.date_trunc("day", moment, LOCAL_TZ)


def _coarser_rows(
    rollup: Rollup, grain: Grain, table: Table, finer: Any
) -> tuple[list[str], Select[Any]]:
    """The finest-tier deltas in ``finer`` summed into ``grain`` buckets, in SQL: measures
    summed, the newest reading kept for gauges, the :data:`HOUR_MASK` of the local hours
    the deltas fell in where the tier keeps one. Ordered by the tier's key."""
    bucket = _bucket_of(grain, finer.c.bucket_start)
    keys = [bucket, finer.c.commune_code, *(finer.c[d] for d in rollup.dims)]
    values: dict[str, ColumnElement[Any]] = {
        "bucket_start": bucket,
        "commune_code": finer.c.commune_code,
        **{d: finer.c[d] for d in rollup.dims},
        **{m: func.sum(finer.c[m]) for m in rollup.measures},
    }
    if rollup.latest:
        newest_first = finer.c.latest_at.desc()
        for col in rollup.latest:
            ordered = aggregate_order_by(finer.c[col], newest_first)
            values[col] = func.array_agg(ordered, type_=ARRAY(table.c[col].type))[1]
        values["latest_at"] = func.max(finer.c.latest_at)
    if keeps_hour_mask(table):
        values[HOUR_MASK] = func.bit_or(_hour_bit(finer.c.bucket_start))
    names = [c.name for c in table.c if c.name in values]
    rows = select(*(values[n].label(n) for n in names)).group_by(*keys).order_by(*keys)
    return names, rows


def _unit_day_rows(rollup: Rollup, table: Table, finer: Any) -> tuple[list[str], Select[Any]]:
    """The finest-tier deltas in ``finer`` summed per (hierarchy, unit holding the commune,
    local day, the dims it keeps) for the unit day tier ``table``: each delta counted once
    for every ancestor the closure table gives its commune. Ordered by the tier's key."""
    day = _bucket_of(Grain.DAY, finer.c.bucket_start)
    dims = [finer.c[d] for d in unit_dims(table)]
    keys = [_CLOSURE.c.hierarchy, _CLOSURE.c.ancestor_code, day, *dims]
    values: dict[str, ColumnElement[Any]] = {
        "hierarchy": _CLOSURE.c.hierarchy,
        "unit_code": _CLOSURE.c.ancestor_code,
        "bucket_start": day,
        **{d.name: d for d in dims},
        **{m: func.sum(finer.c[m]) for m in additive_measures(table)},
    }
    names = [c.name for c in table.c if c.name in values]
    rows = (
        select(*(values[n].label(n) for n in names))
        .select_from(finer.join(_CLOSURE, _CLOSURE.c.descendant_code == finer.c.commune_code))
        .group_by(*keys)
        .order_by(*keys)
    )
    return names, rows


def _hour_bit(moment: ColumnElement[Any]) -> ColumnElement[Any]:
    """``1 << h`` for the local hour ``h`` (0–23) of an hour's ``bucket_start``."""
    hour = cast(extract("hour", func.timezone(LOCAL_TZ, moment)), Integer)
    return literal(1, Integer).op("<<")(hour)


def _source_day_mask_rows(finer: Any) -> tuple[list[str], Select[Any]]:
    """The finest-tier deltas in ``finer`` as (source, local day, mask of their hours),
    ordered by the mask table's key."""
    day = _bucket_of(Grain.DAY, finer.c.bucket_start)
    keys = [finer.c.source, day]
    rows = (
        select(
            finer.c.source,
            day.label("bucket_start"),
            func.bit_or(_hour_bit(finer.c.bucket_start)).label(HOUR_MASK),
        )
        .group_by(*keys)
        .order_by(*keys)
    )
    return ["source", "bucket_start", HOUR_MASK], rows


_ROLLUP_SQL: dict[str, str] = {}


def _rollup_sql(rollup: Rollup, dialect: Dialect) -> str:
    """One statement taking the staged finest-tier deltas into every tier of the roll-up:
    the staging table emptied (``DELETE … RETURNING``), its rows upserted into the finest
    tier as they are, summed per coarser bucket (``GROUP BY``) into each coarser tier, and
    per unit and local day into the unit day tier where the roll-up keeps one.
    Built once per roll-up and kept as SQL text (it has no parameters)."""
    name = rollup.table.name
    if name not in _ROLLUP_SQL:
        tiers = tiers_of(rollup.table).by_grain()
        columns = _delta_columns(rollup)
        finest = tiers[0][1]
        staging = sql_table(staging_name(finest), *(column(n, finest.c[n].type) for n in columns))
        moved = delete(staging).returning(*staging.c).cte("moved")
        statements = []
        for grain, table in tiers:
            if grain is tiers[0][0]:
                key = [moved.c[c.name] for c in table.primary_key]
                names, rows = columns, select(*(moved.c[n] for n in columns)).order_by(*key)
            else:
                names, rows = _coarser_rows(rollup, grain, table, moved)
            stmt = insert(table).from_select(names, rows)
            statements.append(
                stmt.on_conflict_do_update(
                    index_elements=[c.name for c in table.primary_key],
                    set_=_rollup_set(rollup, table, stmt.excluded),
                )
            )
        unit_day = tiers_of(rollup.table).unit_day
        if unit_day is not None:
            names, rows = _unit_day_rows(rollup, unit_day, moved)
            stmt = insert(unit_day).from_select(names, rows)
            added = {m: unit_day.c[m] + stmt.excluded[m] for m in additive_measures(unit_day)}
            statements.append(
                stmt.on_conflict_do_update(
                    index_elements=[c.name for c in unit_day.primary_key],
                    set_={**added, "updated_at": func.now()},
                )
            )
        masks = tiers_of(rollup.table).source_day_mask
        if masks is not None:
            names, rows = _source_day_mask_rows(moved)
            stmt = insert(masks).from_select(names, rows)
            statements.append(
                stmt.on_conflict_do_update(
                    index_elements=[c.name for c in masks.primary_key],
                    set_={
                        HOUR_MASK: masks.c[HOUR_MASK].op("|")(stmt.excluded[HOUR_MASK]),
                        "updated_at": func.now(),
                    },
                )
            )
        *first, last = statements
        for i, stmt in enumerate(first):
            last = last.add_cte(stmt.cte(f"tier_{i}"))
        _ROLLUP_SQL[name] = text_of(last.add_cte(moved), dialect)
    return _ROLLUP_SQL[name]


async def add_to_rollup(conn: AsyncConnection, rollup: Rollup, rows: Iterable[Row]) -> int:
    """Add the rows' deltas to their buckets in every tier of the roll-up (hour, then day);
    return how many hourly bucket rows were touched (:func:`stage_rollup`, then its
    statement run at once)."""
    staged = await stage_rollup(conn, rollup, rows)
    for sql, params in staged:
        await run(conn, sql, params)
    return len(staged)


async def stage_rollup(
    conn: AsyncConnection, rollup: Rollup, rows: Iterable[Row]
) -> list[Statement]:
    """Copy the rows' deltas into the roll-up's staging table; return the statement that
    adds them to every tier (none when there are no deltas), for the caller to run later
    in the same transaction.

    The measures are functions of an event row (declared once, in the stream's spec), so
    the hourly deltas are summed here; they are copied into a staging table once, and one
    statement takes them into the hourly tier and, summed per local day in SQL, into the
    day tier (with its hour mask where it keeps one) and the unit day tier. The statement
    is returned rather than run because its rows are shared with other workers (a
    province's day row takes every source's events): the writer runs such statements last,
    just before the commit, so their row locks are held for as short a time as it can."""
    tiers = tiers_of(rollup.table).by_grain()
    deltas = rollup_deltas(rollup, rows, tiers[0][0])
    if not deltas:
        return []
    finest = tiers[0][1]
    columns = [finest.c[n] for n in _delta_columns(rollup)]
    await copy_values(conn, finest, columns, deltas)
    return [(_rollup_sql(rollup, conn.dialect), None)]

"""SQL for indicator values: sum roll-up measures per unit at a level and per time bucket."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Numeric,
    Table,
    and_,
    any_,
    cast,
    func,
    or_,
    select,
    true,
)  # fmt: skip
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import NamedFromClause, Select

from app.kit.buckets import Bucket
from app.kit.tiers import spans
from models.indicators import Metric
from models.tables import AdminUnit, AdminUnitClosure, Grain, tiers_of

Sums = dict[tuple[str, datetime], tuple[float, datetime | None]]
_CLOSURE = AdminUnitClosure.__table__
_UNIT = AdminUnit.__table__
POPULATION_HIERARCHY = "2020"
"""Populations are kept on the communes as events carry them (the 2020 codes)."""


@dataclass(frozen=True, slots=True)
class UnitsAt:
    """The units at ``level`` within ``unit`` of a hierarchy: the rows of an answer."""

    unit: str
    level: str
    hierarchy: str


@dataclass(frozen=True, slots=True)
class Slice(UnitsAt):
    """Those units over ``[start, end)`` in ``bucket``s: the whole shape of an answer."""

    bucket: Bucket
    start: datetime
    end: datetime


async def stored_zone(conn: AsyncConnection) -> tzinfo:
    """The time zone object the driver gives stored times in (the session's ``TimeZone``).

    Why: a year's answer looks up thousands of (unit, period) keys across sums read from
    the database and sums worked out in Python (completeness, lifecycle stocks). Two aware
    datetimes compare by their fields when they share a time zone object, but through both
    UTC offsets when they do not, some thirty times slower (4 µs against 0.1 µs on the
    project's machine): periods worked out in Python are put in this zone before they are
    used as keys beside the database's (the same instants, so the same answers)."""
    raw = await conn.get_raw_connection()
    zone: tzinfo = raw.driver_connection.info.timezone  # type: ignore[union-attr]
    return zone


def in_zone(sums: dict[tuple[str, datetime], Any], zone: tzinfo) -> dict[tuple[str, datetime], Any]:
    """``sums`` keyed by the same instants in ``zone`` (:func:`stored_zone`), each distinct
    period converted once."""
    moved: dict[datetime, datetime] = {}
    out = {}
    for (unit, period), value in sums.items():
        at = moved.get(period)
        if at is None:
            at = moved[period] = period.astimezone(zone)
        out[unit, at] = value
    return out


def metric_condition(table: Table, metric: Metric) -> ColumnElement[bool]:
    parts = [
        table.c[col].in_(value) if isinstance(value, tuple) else table.c[col] == value
        for col, value in metric.filters.items()
    ]
    return and_(true(), *parts)


def units_at_level(
    where: Slice | UnitsAt, commune_column: ColumnElement[Any]
) -> tuple[NamedFromClause, NamedFromClause, ColumnElement[bool], ColumnElement[bool]]:
    """Closure aliases and join conditions: ``at_level`` maps a commune to its ancestor at
    the level, ``within`` keeps communes under the unit."""
    at_level = _CLOSURE.alias("at_level")
    within = _CLOSURE.alias("within")
    return (
        at_level,
        within,
        and_(
            at_level.c.descendant_code == commune_column,
            at_level.c.hierarchy == where.hierarchy,
            at_level.c.ancestor_level == where.level,
        ),
        and_(
            within.c.descendant_code == commune_column,
            within.c.hierarchy == where.hierarchy,
            within.c.ancestor_code == where.unit,
        ),
    )


async def rollup_sums(
    conn: AsyncConnection,
    metric: Metric,
    where: Slice,
) -> Sums:
    """``sum(measure) WHERE filters`` per (unit at ``level`` within ``unit``, bucket).

    Day and longer buckets read whole local days from the roll-up's day tier (a year is
    365 rows per commune and dimension, not 8,760) and only the partial days at the edges
    of the range from the hourly one; hour buckets read the hourly tier.
    """
    tiers = tiers_of(str(metric.rollup))
    out: Sums = {}
    for grain, start, end in spans(where.bucket, where.start, where.end):
        part = replace(where, start=start, end=end)
        if grain is Grain.DAY and tiers.unit_day is not None and _answers(tiers.unit_day, metric):
            add_sums(out, await _unit_sums(conn, tiers.unit_day, metric, part))
        else:
            table = tiers.day if grain is Grain.DAY else tiers.hour
            add_sums(out, await _sums(conn, table, metric, part))
    return out


async def rollup_sums_together(
    conn: AsyncConnection, metrics: tuple[Metric, ...], where: Slice
) -> list[Sums] | None:
    """:func:`rollup_sums` of several metrics of one roll-up (a rate's numerator and
    denominator) from one pass over its rows, each metric's filters applied to its own
    sum (``FILTER``); None when one query cannot answer them all.

    Each gets what its own query would: a (unit, bucket) only where one of its rows is,
    the sum of its rows, the newest ``as_of`` among them. Only for whole-number measures,
    whose sums are exact in any order: a float measure summed in another order could end
    in other last digits."""
    tiers = tiers_of(str(metrics[0].rollup))
    if tiers.unit_day is None or not all(
        m.kind == "sum" and m.rollup == metrics[0].rollup and _answers(tiers.unit_day, m)
        and isinstance(tiers.unit_day.c[str(m.measure)].type, Integer)
        for m in metrics
    ):  # fmt: skip
        return None
    found: list[Sums] = [{} for _ in metrics]
    for grain, start, end in spans(where.bucket, where.start, where.end):
        part = replace(where, start=start, end=end)
        if grain is Grain.DAY:
            each = await _unit_sums_together(conn, tiers.unit_day, metrics, part)
        else:
            each = [await _sums(conn, tiers.hour, m, part) for m in metrics]
        for into, more in zip(found, each, strict=True):
            add_sums(into, more)
    return found


async def _unit_sums_together(
    conn: AsyncConnection, table: Table, metrics: tuple[Metric, ...], where: Slice
) -> list[Sums]:
    """:func:`_unit_sums` of each metric, from one pass over the units' day rows (summed
    per day first for a longer bucket: :func:`_by_day_first`)."""
    conditions = [metric_condition(table, m) for m in metrics]
    columns: list[ColumnElement[Any]] = []
    for metric, condition in zip(metrics, conditions, strict=True):
        columns += [
            exact_sum(table.c[str(metric.measure)], condition),
            func.max(table.c.updated_at).filter(condition),
            func.count().filter(condition),
        ]
    rows = select(table.c.unit_code).where(
        table.c.hierarchy == where.hierarchy,
        # ``= ANY(ARRAY(subquery))``, not ``IN (subquery)``: the planner then reads the
        # units' rows by key, where a semi-join (its estimate of the units' count far
        # too high) scanned the whole tier for a district answer.
        table.c.unit_code == any_(func.array(units_of(where).scalar_subquery())),
        table.c.bucket_start >= where.start,
        table.c.bucket_start < where.end,
        or_(*conditions),
    )
    stmt: Select[Any]
    if _by_day_first(where.bucket, [table.c[str(m.measure)] for m in metrics]):
        days = (
            rows.add_columns(table.c.bucket_start.label("day"), *columns)
            .group_by(table.c.unit_code, table.c.bucket_start)
            .subquery()
        )
        period = where.bucket.start_of(days.c.day).label("period_start")
        per_day = list(days.c)[2:]
        columns = []
        for total, as_of, count in zip(per_day[0::3], per_day[1::3], per_day[2::3], strict=True):
            columns += [func.sum(total), func.max(as_of), func.sum(count)]
        stmt = select(days.c.unit_code, period).group_by(days.c.unit_code, period)
    else:
        period = period_of_day(where.bucket, table.c.bucket_start).label("period_start")
        stmt = rows.add_columns(period).group_by(table.c.unit_code, period)
    for i in range(0, len(columns), 3):
        columns[i] = cast(func.coalesce(columns[i], 0), Float)
    stmt = stmt.add_columns(*columns)
    found: list[Sums] = [{} for _ in metrics]
    for row in await conn.execute(stmt):
        key = (row[0], row[1])
        for i, sums in enumerate(found):
            if row[4 + 3 * i]:  # rows of this metric in the group
                sums[key] = (float(row[2 + 3 * i]), row[3 + 3 * i])
    return found


def period_of_day(bucket: Bucket, day: ColumnElement[Any]) -> ColumnElement[Any]:
    """The bucket start of a day-tier row's ``day`` (a local midnight, as ingest keys the
    tier): the day itself for a day bucket, with no ``date_trunc`` in local time per row
    (about a third of a day-tier read's time in PostgreSQL)."""
    return day if bucket is Bucket.DAY else bucket.start_of(day)


def _by_day_first(bucket: Bucket, measures: list[ColumnElement[Any]]) -> bool:
    """Sum a week's, month's or year's day rows per unit and day first, then the days per
    bucket? ``date_trunc`` in local time then runs once per unit and day, not once per
    row (a year of a province's districts: 28,000 rows, 6,200 days; the query in half the
    time). Only for whole-number measures, whose sums are exact in any order."""
    return bucket is not Bucket.DAY and all(isinstance(m.type, Integer) for m in measures)


def _answers(table: Table, metric: Metric) -> bool:
    """Does the tier keep the measure and every column the metric filters on?"""
    return str(metric.measure) in table.c and all(col in table.c for col in metric.filters)


def units_of(where: Slice | UnitsAt) -> Select[Any]:
    """Codes of the units at ``level`` holding a commune within ``unit``: the units
    :func:`units_at_level` maps communes to, as a list to look rows up by."""
    at_level, within = _CLOSURE.alias("at_level"), _CLOSURE.alias("within")
    return (
        select(at_level.c.ancestor_code)
        .join(within, within.c.descendant_code == at_level.c.descendant_code)
        .where(
            at_level.c.hierarchy == where.hierarchy,
            at_level.c.ancestor_level == where.level,
            within.c.hierarchy == where.hierarchy,
            within.c.ancestor_code == where.unit,
        )
        .distinct()
    )


async def _unit_sums(conn: AsyncConnection, table: Table, metric: Metric, where: Slice) -> Sums:
    """``_sums`` from a unit day tier: each unit's own day rows, found by key (no commune
    rows, no closure join); ``where`` must be whole local days (:func:`_unit_sums_together`
    for one metric)."""
    return (await _unit_sums_together(conn, table, (metric,), where))[0]


def _total(measure: ColumnElement[Any]) -> ColumnElement[float]:
    """``sum(measure)`` (0 for no rows) as a double: a bigint's sum is a numeric, which the
    driver would read as a ``Decimal`` only for it to be made a float here; below 2**53 both
    conversions are exact."""
    return cast(func.coalesce(exact_sum(measure), 0), Float).label("total")


def exact_sum(
    measure: ColumnElement[Any], condition: ColumnElement[bool] | None = None
) -> ColumnElement[Any]:
    """``sum(measure)`` [``FILTER (WHERE condition)``], the same whatever order the rows
    come in: a whole-number measure as it is; a double summed as ``numeric`` (exact) and
    made a double once. A double's sum depends on the order of its terms, and PostgreSQL's
    parallel workers combine their partial sums in whichever order they finish: the same
    question asked twice of the same rows gave values differing in the last digits, enough
    to move a rounded mean (5.64 / 5.65 working days) and to reorder a ranking's ties."""
    if isinstance(measure.type, Integer):
        summed = func.sum(measure)
        return summed if condition is None else summed.filter(condition)
    exact = func.sum(cast(measure, Numeric))
    return cast(exact if condition is None else exact.filter(condition), Float)


def add_sums(into: Sums, more: Sums) -> None:
    """Sums of disjoint times added into ``into``: totals add, the newest ``as_of`` wins.
    Into nothing yet (a range of whole days is one part), ``more`` is taken as it is: the
    same totals but a negative zero, which :func:`app.indicators.metrics.summed` makes 0
    as it weighs every part."""
    if not into:
        into.update(more)
        return
    for key, (total, as_of) in more.items():
        have, seen = into.get(key, (0.0, None))
        stamps = [s for s in (seen, as_of) if s is not None]
        into[key] = (have + total, max(stamps) if stamps else None)


async def _sums(conn: AsyncConnection, table: Table, metric: Metric, where: Slice) -> Sums:
    at_level, within, on_level, on_within = units_at_level(where, table.c.commune_code)
    period = where.bucket.start_of(table.c.bucket_start).label("period_start")
    stmt = (
        select(
            at_level.c.ancestor_code.label("unit_code"),
            period,
            _total(table.c[str(metric.measure)]),
            func.max(table.c.updated_at).label("as_of"),
        )
        .select_from(table)
        .join(at_level, on_level)
        .join(within, on_within)
        .where(
            table.c.bucket_start >= where.start,
            table.c.bucket_start < where.end,
            metric_condition(table, metric),
        )
        .group_by(at_level.c.ancestor_code, period)
    )
    return await keyed_sums(conn, stmt)


async def keyed_sums(conn: AsyncConnection, stmt: Select[Any]) -> Sums:
    """(unit_code, period_start, total, as_of) rows as sums keyed by (unit, period)."""
    result = await conn.execute(stmt)
    return {(unit, period): (float(total), as_of) for unit, period, total, as_of in result}


async def populations(conn: AsyncConnection, where: UnitsAt) -> dict[str, float]:
    """Population per unit at ``level`` within ``unit``: the sum of its communes'."""
    at_level, within, on_level, on_within = units_at_level(where, _UNIT.c.code)
    stmt = (
        select(at_level.c.ancestor_code, func.sum(_UNIT.c.population))
        .select_from(_UNIT)
        .join(at_level, on_level)
        .join(within, on_within)
        .where(_UNIT.c.hierarchy == POPULATION_HIERARCHY, _UNIT.c.population.is_not(None))
        .group_by(at_level.c.ancestor_code)
    )
    return {code: float(total) for code, total in await conn.execute(stmt)}


async def commune_to_unit(conn: AsyncConnection, where: UnitsAt) -> dict[str, str]:
    """Each commune code within ``unit`` → its ancestor at ``level``."""
    at_level, within, on_level, on_within = units_at_level(where, _CLOSURE.c.descendant_code)
    stmt = (
        select(_CLOSURE.c.descendant_code, at_level.c.ancestor_code)
        .select_from(_CLOSURE)
        .join(at_level, on_level)
        .join(within, on_within)
        .where(_CLOSURE.c.hierarchy == where.hierarchy)
        .distinct()
    )
    return {commune: ancestor for commune, ancestor in await conn.execute(stmt)}

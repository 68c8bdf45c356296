"""SQL for indicator values: sum roll-up measures per unit at a level and per time bucket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    true,
    values,
)  # fmt: skip
from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.buckets import Bucket
from models.indicators import Metric
from models.tables import AdminUnit, AdminUnitClosure, Base, Timestamp

Sums = dict[tuple[str, datetime], tuple[float, datetime | None]]
_CLOSURE = AdminUnitClosure.__table__
_UNIT = AdminUnit.__table__
POPULATION_HIERARCHY = "2020"
"""Populations are kept on the communes as events carry them (the 2020 codes)."""


def rollup_table(metric: Metric) -> Table:
    return Base.metadata.tables[str(metric.rollup)]


def _condition(table: Table, metric: Metric) -> ColumnElement[bool]:
    parts = [
        table.c[col].in_(value) if isinstance(value, tuple) else table.c[col] == value
        for col, value in metric.filters.items()
    ]
    return and_(true(), *parts)


def _units_at_level(hierarchy: str, level: str, unit: str, commune_column: object) -> tuple:  # type: ignore[type-arg]
    at_level = _CLOSURE.alias("at_level")
    within = _CLOSURE.alias("within")
    return (
        at_level,
        within,
        and_(
            at_level.c.descendant_code == commune_column,
            at_level.c.hierarchy == hierarchy,
            at_level.c.ancestor_level == level,
        ),
        and_(
            within.c.descendant_code == commune_column,
            within.c.hierarchy == hierarchy,
            within.c.ancestor_code == unit,
        ),
    )


async def rollup_sums(
    conn: AsyncConnection,
    metric: Metric,
    *,
    unit: str,
    level: str,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    hierarchy: str,
) -> Sums:
    """``sum(measure) WHERE filters`` per (unit at ``level`` within ``unit``, bucket)."""
    table = rollup_table(metric)
    at_level, within, on_level, on_within = _units_at_level(
        hierarchy, level, unit, table.c.commune_code
    )
    period = bucket.start_of(table.c.bucket_start).label("period_start")
    stmt = (
        select(
            at_level.c.ancestor_code.label("unit_code"),
            period,
            func.coalesce(func.sum(table.c[str(metric.measure)]), 0).label("total"),
            func.max(table.c.updated_at).label("as_of"),
        )
        .select_from(table)
        .join(at_level, on_level)
        .join(within, on_within)
        .where(table.c.bucket_start >= start, table.c.bucket_start < end, _condition(table, metric))
        .group_by(at_level.c.ancestor_code, period)
    )
    rows = (await conn.execute(stmt)).all()
    return {(r.unit_code, r.period_start): (float(r.total), r.as_of) for r in rows}


async def populations(
    conn: AsyncConnection, *, unit: str, level: str, hierarchy: str
) -> dict[str, float]:
    """Population per unit at ``level`` within ``unit``: the sum of its communes'."""
    at_level, within, on_level, on_within = _units_at_level(hierarchy, level, unit, _UNIT.c.code)
    stmt = (
        select(at_level.c.ancestor_code, func.sum(_UNIT.c.population))
        .select_from(_UNIT)
        .join(at_level, on_level)
        .join(within, on_within)
        .where(_UNIT.c.hierarchy == POPULATION_HIERARCHY, _UNIT.c.population.is_not(None))
        .group_by(at_level.c.ancestor_code)
    )
    return {code: float(total) for code, total in await conn.execute(stmt)}


async def commune_to_unit(
    conn: AsyncConnection, *, unit: str, level: str, hierarchy: str
) -> dict[str, str]:
    """Each commune code within ``unit`` → its ancestor at ``level``."""
    at_level, within, on_level, on_within = _units_at_level(
        hierarchy, level, unit, _CLOSURE.c.descendant_code
    )
    stmt = (
        select(_CLOSURE.c.descendant_code, at_level.c.ancestor_code)
        .select_from(_CLOSURE)
        .join(at_level, on_level)
        .join(within, on_within)
        .where(_CLOSURE.c.hierarchy == hierarchy)
        .distinct()
    )
    return {commune: ancestor for commune, ancestor in await conn.execute(stmt)}


async def lifecycle_counts(
    conn: AsyncConnection,
    metric: Metric,
    *,
    unit: str,
    level: str,
    hierarchy: str,
    periods: list[tuple[datetime, datetime]],
) -> Sums:
    """Entities of a lifecycle state table open at each bucket's start (carried over), or
    open and past their deadline at its end, per unit at ``level``."""
    table = Base.metadata.tables[str(metric.rollup)]
    if not periods:
        return {}
    done = table.c["completed_at"] if "completed_at" in table.c else table.c["resolved_at"]
    due: ColumnElement[datetime] = table.c.due_at
    if "supplement_days" in table.c:  # the citizen's supplement time moves the deadline
        due = due + table.c.supplement_days * literal_column("interval '1 day'")
    bounds = values(column("p_start", Timestamp), column("p_end", Timestamp), name="periods").data(
        periods
    )
    at = bounds.c.p_start if metric.kind == "open_at_start" else bounds.c.p_end
    is_open = and_(table.c.received_at < at, or_(done.is_(None), done >= at))
    if metric.kind == "open_overdue_at_end":
        is_open = and_(is_open, due < at)
    at_level, within, on_level, on_within = _units_at_level(
        hierarchy, level, unit, table.c.commune_code
    )
    stmt = (
        select(
            at_level.c.ancestor_code.label("unit_code"),
            bounds.c.p_start,
            func.count().label("total"),
            func.max(table.c.updated_at).label("as_of"),
        )
        .select_from(table)
        .join(at_level, on_level)
        .join(within, on_within)
        .join(bounds, is_open)
        .group_by(at_level.c.ancestor_code, bounds.c.p_start)
    )
    rows = (await conn.execute(stmt)).all()
    return {(r.unit_code, r.p_start): (float(r.total), r.as_of) for r in rows}

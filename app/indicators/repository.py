"""SQL for indicator values: sum roll-up measures per unit at a level and per time bucket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, and_, func, null, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.buckets import Bucket
from models.indicators import Indicator, Metric
from models.tables import AdminUnitClosure, Base


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    unit_code: str
    period_start: datetime
    numerator: float
    denominator: float | None
    as_of: datetime | None


def _rollup(metric: Metric) -> Table:
    return Base.metadata.tables[metric.rollup]


def _measure(table: Table, metric: Metric):  # type: ignore[no-untyped-def]
    condition = and_(true(), *(table.c[col] == value for col, value in metric.filters.items()))
    return func.coalesce(func.sum(table.c[metric.measure]).filter(condition), 0)


async def series(
    conn: AsyncConnection,
    indicator: Indicator,
    *,
    unit: str,
    level: str,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    hierarchy: str,
) -> list[SeriesPoint]:
    """One point per (unit at ``level`` within ``unit``, bucket) that has data."""
    table = _rollup(indicator.numerator)
    if indicator.denominator and indicator.denominator.rollup != table.name:
        raise NotImplementedError("numerator and denominator from different roll-ups")
    at_level = AdminUnitClosure.__table__.alias("at_level")
    within = AdminUnitClosure.__table__.alias("within")
    period = bucket.start_of(table.c.bucket_start).label("period_start")
    columns = [
        at_level.c.ancestor_code.label("unit_code"),
        period,
        _measure(table, indicator.numerator).label("numerator"),
        (_measure(table, indicator.denominator) if indicator.denominator else null()).label(
            "denominator"
        ),
        func.max(table.c.updated_at).label("as_of"),
    ]
    stmt = (
        select(*columns)
        .select_from(table)
        .join(
            at_level,
            and_(
                at_level.c.descendant_code == table.c.commune_code,
                at_level.c.hierarchy == hierarchy,
                at_level.c.ancestor_level == level,
            ),
        )
        .join(
            within,
            and_(
                within.c.descendant_code == table.c.commune_code,
                within.c.hierarchy == hierarchy,
                within.c.ancestor_code == unit,
            ),
        )
        .where(table.c.bucket_start >= start, table.c.bucket_start < end)
        .group_by(at_level.c.ancestor_code, period)
        .order_by(at_level.c.ancestor_code, period)
    )
    rows = (await conn.execute(stmt)).all()
    return [
        SeriesPoint(
            unit_code=r.unit_code,
            period_start=r.period_start,
            numerator=float(r.numerator),
            denominator=None if r.denominator is None else float(r.denominator),
            as_of=r.as_of,
        )
        for r in rows
    ]

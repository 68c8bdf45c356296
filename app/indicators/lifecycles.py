"""SQL for lifecycle indicators: entities of a state table (dossiers, citizen reports)
received, completed, open or overdue per unit and bucket, and working days to completion.

Apart from the roll-up sums (:mod:`app.indicators.repository`) because they read state rows
and their per-unit running day totals (``lifecycle_unit_daily``), not additive roll-ups.
Day and longer buckets read each answer unit's own day rows by key; hour buckets, the
partial days at the edges of a range and the part of today not over yet read the state
table, as do the metrics that leave entities out by a column the day rows do not keep.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import accumulate
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Integer,
    Table,
    and_,
    any_,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from app.indicators.questions import periods_of
from app.indicators.repository import (
    Slice,
    Sums,
    add_sums,
    exact_sum,
    keyed_sums,
    metric_condition,
    period_of_day,
    stored_zone,
    units_at_level,
    units_of,
)
from app.kit.buckets import LOCAL_TZ, Bucket
from app.kit.tiers import spans
from ingest import store_lifecycle as moments
from models.clock import floor_local_day
from models.indicators import Metric
from models.tables import LIFECYCLE_UNIT_DAILY, Base, Grain, kept_columns
from models.tables.lifecycle_totals import COMPLETED

_DAYS = LIFECYCLE_UNIT_DAILY


async def lifecycle_counts(
    conn: AsyncConnection, metric: Metric, where: Slice, now: datetime | None = None
) -> Sums:
    """Entities of a lifecycle state table open at each bucket's start (carried over) or
    end, or open and past their deadline at its end, per unit at ``level``.

    Counted as differences of running totals, never by pairing entities with buckets:
    open at t = #(received < t) − #(done < t), and overdue-open at t =
    #(deadline < t) − #(max(deadline, done) < t), since every entity is received before its
    deadline and its completion. Each running total is one GROUP BY over the state table.
    A bucket not over at ``now`` is counted as of ``now``: a deadline later today is not
    past yet.
    """
    table = Base.metadata.tables[str(metric.rollup)]
    # In the database's zone, as the running totals' buckets: a year of day buckets is a
    # binary search per bucket, each step a comparison with one of them.
    zone = await stored_zone(conn)
    periods = [
        (start.astimezone(zone), end.astimezone(zone))
        for start, end in periods_of(where.bucket, where.start, where.end)
    ]
    if not periods:
        return {}
    at_end = metric.kind in ("open_at_end", "open_overdue_at_end")
    plus, minus = (
        ("due", "due_or_done") if metric.kind == "open_overdue_at_end" else ("received", "done")
    )
    end = periods[-1][1] if now is None else min(periods[-1][1], now)
    scope = replace(where, start=periods[0][0], end=end)
    added = await _moment_totals(conn, table, plus, scope)
    removed = await _moment_totals(conn, table, minus, scope)
    out: Sums = {}
    for unit_code in added:
        ups, downs = added[unit_code], removed.get(unit_code)
        for p_start, p_end in periods:
            moment = p_end if at_end else p_start
            total = ups.before(moment) - (downs.before(moment) if downs else 0)
            if total > 0:
                stamps = [t.as_of for t in (ups, downs) if t is not None and t.as_of is not None]
                out[unit_code, p_start] = (float(total), max(stamps) if stamps else None)
    return out


def _completed(table: Table) -> ColumnElement[Any]:
    """When the entity was completed, if that step is known."""
    return moments.completed(table.c)


def _state_condition(table: Table, metric: Metric) -> ColumnElement[bool]:
    """``filters`` hold and no ``unless`` does (a NULL column matches neither)."""
    excluded = [func.coalesce(table.c[col] == value, False) for col, value in metric.unless.items()]
    return and_(metric_condition(table, metric), *(~e for e in excluded))


def _units(where: Slice) -> ColumnElement[Any]:
    """``ANY(ARRAY(the units at the level))``: their day rows read by key (a semi-join on
    the units may be planned as a scan of every unit's rows)."""
    return any_(func.array(units_of(where).scalar_subquery()))


def _days_answer(table: Table, metric: Metric) -> bool:
    """Do the unit day rows count what the metric counts? Completions are kept per value
    of the kept columns, receipts not split at all."""
    used = {*metric.filters, *metric.unless}
    if metric.kind == "received_in_period":
        return not used
    return used <= set(kept_columns(table.name))


async def lifecycle_entities(conn: AsyncConnection, metric: Metric, where: Slice) -> Sums:
    """Entities of a state table received, or completed, in each bucket, per unit at
    ``level``: one each, whatever the number of its events. Whole local days are sums of
    the units' day rows; the partial days at the edges of the range, hour buckets and
    metrics the day rows cannot answer are counted from the state table."""
    table = Base.metadata.tables[str(metric.rollup)]
    if where.bucket is Bucket.HOUR or not _days_answer(table, metric):
        return await _entity_rows(conn, table, metric, where)
    out: Sums = {}
    for grain, start, end in spans(where.bucket, where.start, where.end):
        part = replace(where, start=start, end=end)
        if grain is Grain.DAY:
            add_sums(out, await _entity_days(conn, table, metric, part))
        else:
            add_sums(out, await _entity_rows(conn, table, metric, part))
    return out


async def _entity_days(conn: AsyncConnection, table: Table, metric: Metric, where: Slice) -> Sums:
    """Entities received, or completed, on the whole local days of ``where``, per unit at
    ``level`` and bucket: the units' own day rows, found by key. A bucket without any has
    no row; ``as_of`` is the newest change to a day row still counting one."""
    moment = "received" if metric.kind == "received_in_period" else COMPLETED
    period = period_of_day(where.bucket, _DAYS.c.bucket_start).label("period_start")
    total = func.sum(_DAYS.c.entities)
    stmt = (
        select(
            _DAYS.c.unit_code,
            period,
            total.label("total"),
            func.max(_DAYS.c.updated_at).filter(_DAYS.c.entities > 0).label("as_of"),
        )
        .where(
            _DAYS.c.state_table == table.name,
            _DAYS.c.moment == moment,
            _DAYS.c.hierarchy == where.hierarchy,
            _DAYS.c.unit_code == _units(where),
            _DAYS.c.bucket_start >= where.start,
            _DAYS.c.bucket_start < where.end,
            _state_condition(_DAYS, metric),
        )
        .group_by(_DAYS.c.unit_code, period)
        .having(total > 0)
    )
    return await keyed_sums(conn, stmt)


async def _entity_rows(conn: AsyncConnection, table: Table, metric: Metric, where: Slice) -> Sums:
    """Entities received, or completed, in ``where``, counted from the state rows."""
    moment = table.c.received_at if metric.kind == "received_in_period" else _completed(table)
    at_level, within, on_level, on_within = units_at_level(where, table.c.commune_code)
    period = where.bucket.start_of(moment).label("period_start")
    stmt = (
        select(
            at_level.c.ancestor_code.label("unit_code"),
            period,
            func.count().label("total"),
            func.max(table.c.updated_at).label("as_of"),
        )
        .select_from(table)
        .join(at_level, on_level)
        .join(within, on_within)
        .where(moment >= where.start, moment < where.end, _state_condition(table, metric))
        .group_by(at_level.c.ancestor_code, period)
    )
    return await keyed_sums(conn, stmt)


@dataclass
class _Totals:
    """Entities per unit whose timestamp is before the range, then per bucket inside it."""

    base: int = 0
    by_bucket: dict[datetime, int] = field(default_factory=dict)
    as_of: datetime | None = None
    _starts: list[datetime] = field(default_factory=list)
    _running: list[int] = field(default_factory=list)

    def before(self, moment: datetime) -> int:
        """Entities whose timestamp falls in a bucket starting before ``moment``: a running
        total, so a year of day buckets costs a binary search per bucket, not a pass."""
        if len(self._running) != len(self.by_bucket) + 1:  # not summed since the last bucket
            self._starts = sorted(self.by_bucket)
            self._running = list(accumulate((self.by_bucket[b] for b in self._starts), initial=0))
        return self.base + self._running[bisect_left(self._starts, moment)]


async def _moment_totals(
    conn: AsyncConnection, table: Table, moment: str, scope: Slice
) -> dict[str, _Totals]:
    """Running totals of entities whose ``moment`` (``ingest.store_lifecycle.moments``) is
    before each bucket: whole local days from the per-day counts ingest keeps, the part of
    a day not over yet (``scope.end`` before midnight) from the state table. Hour buckets
    read the state table."""
    at = moments.moments(table.c)[moment]
    if scope.bucket is Bucket.HOUR:
        return await _running_totals(conn, table, at, scope)
    cut = floor_local_day(scope.end)
    out = await _day_totals(conn, table, moment, replace(scope, end=cut))
    if cut < scope.end:
        partial = await _running_totals(conn, table, at, scope, since=cut)
        for unit_code, more in partial.items():
            totals = out.setdefault(unit_code, _Totals())
            totals.base += more.base
            for bucket, n in more.by_bucket.items():
                totals.by_bucket[bucket] = totals.by_bucket.get(bucket, 0) + n
            stamps = [s for s in (totals.as_of, more.as_of) if s is not None]
            totals.as_of = max(stamps) if stamps else None
    return out


async def _day_totals(
    conn: AsyncConnection, table: Table, moment: str, scope: Slice
) -> dict[str, _Totals]:
    """Entities per unit whose ``moment`` fell on a local day before ``scope.end`` (a
    midnight): before ``scope.start`` as the base, then per bucket. Each unit at the level
    reads its own day rows, by key."""
    days = _DAYS
    day = days.c.bucket_start
    period = case((day < scope.start, None), else_=period_of_day(scope.bucket, day)).label("period")
    stmt = (
        select(
            days.c.unit_code,
            period,
            func.sum(days.c.entities).label("n"),
            func.max(days.c.updated_at).label("as_of"),
        )
        .where(
            days.c.state_table == table.name,
            days.c.moment == moment,
            days.c.hierarchy == scope.hierarchy,
            days.c.unit_code == _units(scope),
            day < scope.end,
        )
        .group_by(days.c.unit_code, period)
    )
    return _totals_of(await conn.execute(stmt))


async def _running_totals(
    conn: AsyncConnection,
    table: Table,
    moment: ColumnElement[Any],
    scope: Slice,
    since: datetime | None = None,
) -> dict[str, _Totals]:
    """Entities per unit whose ``moment`` is before ``scope.end`` (and not before
    ``since``, when given), counted from the state table."""
    at_level, within, on_level, on_within = units_at_level(scope, table.c.commune_code)
    period = case((moment < scope.start, None), else_=scope.bucket.start_of(moment)).label("period")
    stmt = (
        select(
            at_level.c.ancestor_code.label("unit_code"),
            period,
            func.count().label("n"),
            func.max(table.c.updated_at).label("as_of"),
        )
        .select_from(table)
        .join(at_level, on_level)
        .join(within, on_within)
        # a NULL moment (never done) is never before anything
        .where(moment < scope.end, moment >= since if since is not None else true())
        .group_by(at_level.c.ancestor_code, period)
    )
    return _totals_of(await conn.execute(stmt))


def _totals_of(rows: Any) -> dict[str, _Totals]:
    out: dict[str, _Totals] = {}
    for row in rows:
        totals = out.setdefault(row.unit_code, _Totals())
        if row.period is None:
            totals.base += row.n
        else:
            totals.by_bucket[row.period] = row.n
        if totals.as_of is None or row.as_of > totals.as_of:
            totals.as_of = row.as_of
    return out


_MONDAY: ColumnElement[Any] = literal_column("DATE '0001-01-01'")
"""A Monday before any date a table holds: working days are counted from it."""


def _working_days_through(day: ColumnElement[Any], holidays: list[date]) -> ColumnElement[Any]:
    """Working days from ``_MONDAY`` through the date ``day``: five a week and those of the
    week begun up to Friday, less the ``holidays`` on a weekday up to ``day`` (how many of
    those sorted dates are ≤ ``day``: ``width_bucket``, a binary search)."""
    elapsed = type_coerce((day - _MONDAY).self_group(), Integer)  # date − date: days
    weekdays = 5 * elapsed.op("/")(7) + func.least(elapsed.op("%")(7) + 1, 5)
    weekday_holidays = sorted({d for d in holidays if d.isoweekday() < 6})
    if not weekday_holidays:
        return weekdays
    return weekdays - func.width_bucket(day, literal(weekday_holidays, ARRAY(Date)))


async def working_days_to_done(
    conn: AsyncConnection, metric: Metric, where: Slice, holidays: list[date]
) -> Sums:
    """Sum, per unit and bucket of completion, of the working days each entity took.

    Working days in ``(received, done]`` by local date, Monday–Friday and not in
    ``holidays`` (``models.calendar``: the same rule deadlines are set by), less the
    citizen's supplement days where the table keeps them, never below zero.
    """
    table = Base.metadata.tables[str(metric.rollup)]
    done = _completed(table)
    # Working days in (received, done] = those through done − those through received:
    # arithmetic per entity, where a calendar of its days was generated and filtered.
    working = func.greatest(
        _working_days_through(func.date(func.timezone(LOCAL_TZ, done)), holidays)
        - _working_days_through(func.date(func.timezone(LOCAL_TZ, table.c.received_at)), holidays),
        0,
    )
    total: ColumnElement[Any] = func.sum(working)
    if "supplement_days" in table.c:  # a double: summed so the order of rows cannot tell
        total = exact_sum(type_coerce(func.greatest(working - table.c.supplement_days, 0), Float))
    at_level, within, on_level, on_within = units_at_level(where, table.c.commune_code)
    period = where.bucket.start_of(done).label("period_start")
    stmt = (
        select(
            at_level.c.ancestor_code.label("unit_code"),
            period,
            total.label("total"),
            func.max(table.c.updated_at).label("as_of"),
        )
        .select_from(table)
        .join(at_level, on_level)
        .join(within, on_within)
        .where(done >= where.start, done < where.end)
        .group_by(at_level.c.ancestor_code, period)
    )
    return await keyed_sums(conn, stmt)

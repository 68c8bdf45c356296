"""SQL over the data-quality roll-ups: events per source and hour, and each source's freshness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    Table,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.buckets import Bucket
from app.kit.tiers import spans
from models.clock import LOCAL_TZ
from models.closures import Closure
from models.tables import HOUR_MASK, TIERS, Grain, SourceFreshness, SourceHourly
from models.tables_serving import SourceClosure

_HOURLY = SourceHourly.__table__
_TIERS = TIERS[SourceHourly.__tablename__]
_FRESH = SourceFreshness.__table__


@dataclass(frozen=True, slots=True)
class SourceCounts:
    source: str
    period_start: datetime
    received: int
    on_time: int
    lag_seconds_sum: float


@dataclass(frozen=True, slots=True)
class Freshness:
    last_event_at: datetime
    last_ingested_at: datetime
    lag_seconds: float


async def counts(
    conn: AsyncConnection,
    event_types: list[str] | None,
    *,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    sources: list[str] | None = None,
) -> list[SourceCounts]:
    """Unique events, timely events and summed lag per (source, bucket of event time),
    optionally of some event types or some sources only; whole local days are read from
    the day tier (365 rows a source-year instead of 8,760)."""
    totals: dict[tuple[str, datetime], list[float]] = {}
    for grain, span_start, span_end in spans(bucket, start, end):
        table = _TIERS.day if grain is Grain.DAY else _TIERS.hour
        period = bucket.start_of(table.c.bucket_start).label("period_start")
        stmt = (
            select(
                table.c.source,
                period,
                func.sum(table.c.events).label("received"),
                func.sum(table.c.within_1h).label("on_time"),
                func.sum(table.c.lag_seconds_sum).label("lag_sum"),
            )
            .where(table.c.bucket_start >= span_start, table.c.bucket_start < span_end)
            .group_by(table.c.source, period)
        )
        if event_types is not None:
            stmt = stmt.where(table.c.event_type.in_(event_types))
        if sources is not None:
            stmt = stmt.where(table.c.source.in_(sources))
        for r in await conn.execute(stmt):
            acc = totals.setdefault((r.source, r.period_start), [0, 0, 0.0])
            acc[0] += int(r.received)
            acc[1] += int(r.on_time)
            acc[2] += float(r.lag_sum)
    return [
        SourceCounts(source, period, int(n), int(on_time), lag)
        for (source, period), (n, on_time, lag) in totals.items()
    ]


async def freshness(conn: AsyncConnection) -> dict[str, Freshness]:
    """Newest event and ingest time per source (over its event types), and the lag then."""
    rows = await conn.execute(
        select(
            _FRESH.c.source,
            _FRESH.c.last_event_at,
            _FRESH.c.last_ingested_at,
            _FRESH.c.lag_seconds,
        ).order_by(_FRESH.c.source, _FRESH.c.last_event_at)
    )
    # Ordered by last_event_at, so the newest event type of each source wins.
    return {r.source: Freshness(r.last_event_at, r.last_ingested_at, r.lag_seconds) for r in rows}


async def hour_masks(
    conn: AsyncConnection, sources: list[str] | None, *, start: datetime, end: datetime
) -> dict[tuple[str, date], int]:
    """Per (source, local day) in ``[start, end)``, a bit mask of the local hours in which
    events arrived: what the slot counts of ``app.sources.slots`` are made of. Whole local
    days come from the source day masks (a source-year is 365 rows, not 8,760 hours, nor a
    day row per event type and patient commune), the partial days at the edges from the
    hourly rows. Each source's days and
    masks come back as two arrays in one row (a thousand rows for a province's year, not
    the 400,000 source-days, whose row-by-row reading was most of the time)."""
    masks: dict[tuple[str, date], int] = {}
    for grain, span_start, span_end in spans(Bucket.DAY, start, end):
        if grain is Grain.DAY and _TIERS.source_day_mask is not None:
            per_day = _day_masks(_TIERS.source_day_mask, span_start, span_end)
        else:
            per_day = _masks_by_day(grain, span_start, span_end)
        if sources is not None:
            per_day = per_day.where(per_day.selected_columns.source.in_(sources))
        rows = per_day.subquery()
        stmt = select(
            rows.c.source,
            func.array_agg(rows.c.day).label("days"),
            func.array_agg(rows.c.mask).label("masks"),
        ).group_by(rows.c.source)
        for r in await conn.execute(stmt):
            for key, mask in zip(((r.source, d) for d in r.days), r.masks, strict=True):
                masks[key] = masks.get(key, 0) | mask
    return masks


def day_masks_kept() -> bool:
    """Are per-source day masks kept (what :func:`arrived_slots` reads)?"""
    return _TIERS.source_day_mask is not None


_ARRIVED = text(
    """
    WITH src AS (
        SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:units AS int[]),
                             CAST(:schedules AS int[]), CAST(:many AS bool[]))
            AS s(source, unit, schedule, many)
    ), plan AS (
        SELECT * FROM unnest(CAST(:p_schedule AS int[]), CAST(:p_slot AS int[]),
                             CAST(:p_day AS timestamptz[]), CAST(:p_hours AS int[]),
                             CAST(:p_whole AS bool[]), CAST(:p_pending AS bool[]),
                             CAST(:p_period AS int[]))
            AS p(schedule, slot, day_start, hours, whole, pending, period)
    )
    SELECT unit, period, sum(n) AS arrived, sum(n) FILTER (WHERE pending) AS pending
    FROM (
        SELECT g.unit, p.period, p.pending,
               sum(CASE WHEN p.whole
                        THEN bit_count(CAST(g.hour_mask & p.hours AS bit(32)))
                        ELSE CAST(g.hour_mask & p.hours <> 0 AS int) END) AS n
        FROM (
            SELECT s.unit, s.schedule, m.bucket_start, m.hour_mask
            FROM src AS s
            JOIN {masks} AS m ON m.source = s.source
            WHERE NOT s.many AND m.bucket_start >= :lo AND m.bucket_start < :hi
            OFFSET 0
        ) AS g
        JOIN plan AS p ON p.schedule = g.schedule AND p.day_start = g.bucket_start
        GROUP BY g.unit, p.period, p.pending
        UNION ALL
        SELECT g.unit, p.period, p.pending, 1 AS n
        FROM (
            SELECT s.unit, s.schedule, s.source, m.bucket_start, m.hour_mask
            FROM src AS s
            JOIN {masks} AS m ON m.source = s.source
            WHERE s.many AND m.bucket_start >= :lo AND m.bucket_start < :hi
            OFFSET 0
        ) AS g
        JOIN plan AS p ON p.schedule = g.schedule AND p.day_start = g.bucket_start
        WHERE g.hour_mask & p.hours <> 0
        GROUP BY g.unit, p.period, p.pending, g.source, p.slot
    ) AS slots
    GROUP BY unit, period
    """
)
"""Arrived planned slots per unit and period: slots of one day counted row by row (a
whole day by its arrived hours), slots of several days (a week) once per source however
many of their days arrived."""


async def arrived_slots(
    conn: AsyncConnection,
    unit_of: dict[str, str],
    schedule_of: dict[str, int],
    rows: list[tuple[int, int, datetime, int, bool, bool, bool, int]],
) -> dict[tuple[str, int], tuple[int, int]]:
    """Per (unit, period number): the planned slots (``app.sources.slots.SlotPlan``) of the
    sources in ``unit_of`` (source code → unit) that arrived, and of them those counted
    only because they arrived; summed in the database from the source day masks, so a
    year of a thousand sources comes back as one row per unit and period."""
    table = _TIERS.source_day_mask
    if table is None or not rows or not unit_of:
        return {}
    codes = list(unit_of)
    unit_names = sorted(set(unit_of.values()))
    unit_no = {unit: n for n, unit in enumerate(unit_names)}
    columns = list(zip(*rows, strict=True))
    days = columns[2]
    # A schedule's slots are all of one day or all of several (a week cadence).
    several = {row[0] for row in rows if row[6]}
    assert all(row[6] for row in rows if row[0] in several)
    stmt = text(_ARRIVED.text.format(masks=table.name))
    result = await conn.execute(
        stmt,
        {
            "codes": codes,
            "units": [unit_no[unit_of[c]] for c in codes],
            "schedules": [schedule_of[c] for c in codes],
            "many": [schedule_of[c] in several for c in codes],
            "p_schedule": list(columns[0]),
            "p_slot": list(columns[1]),
            "p_day": list(days),
            "p_hours": list(columns[3]),
            "p_whole": list(columns[4]),
            "p_pending": list(columns[5]),
            "p_period": list(columns[7]),
            "lo": min(days),
            "hi": max(days) + timedelta(days=1),
        },
    )
    return {
        (unit_names[unit], period): (int(n), int(pending or 0))
        for unit, period, n, pending in result
    }


def _day_masks(table: Table, start: datetime, end: datetime) -> Select[Any]:
    """(source, local day, mask) for whole local days from the source day masks: one row
    per source and day already."""
    day = cast(func.timezone(LOCAL_TZ, table.c.bucket_start), Date).label("day")
    return select(table.c.source, day, table.c[HOUR_MASK].label("mask")).where(
        table.c.bucket_start >= start, table.c.bucket_start < end
    )


def _masks_by_day(grain: Grain, start: datetime, end: datetime) -> Select[Any]:
    """(source, local day, mask) from the day tier's rows (whole days) or the hourly rows
    (partial days), per event type and commune, summed per source and day."""
    table = _TIERS.day if grain is Grain.DAY else _HOURLY
    local = func.timezone(LOCAL_TZ, table.c.bucket_start)
    day = cast(local, Date).label("day")
    bits: ColumnElement[int] = (
        table.c[HOUR_MASK]
        if grain is Grain.DAY
        else literal(1).op("<<")(cast(func.extract("hour", local), Integer))
    )
    return (
        select(table.c.source, day, func.bit_or(bits).label("mask"))
        .where(table.c.bucket_start >= start, table.c.bucket_start < end)
        .group_by(table.c.source, day)
    )


@dataclass(frozen=True, slots=True)
class StreamSpan:
    """What is stored of one event type: its first and newest event, its last ingest."""

    first_event_at: datetime
    last_event_at: datetime
    last_ingested_at: datetime
    slowest_recent: datetime | None
    """The oldest newest-event among its sources written into since ``recent``: where the
    slowest of them has got (sources are Kafka keys, so partitions of one type advance
    apart); None when none was written into since."""


async def stream_spans(
    conn: AsyncConnection, recent: datetime | None = None
) -> dict[str, StreamSpan]:
    """Per event type: where its stored data starts and ends, and when it was last written."""
    since = recent if recent is not None else datetime.max.replace(tzinfo=UTC)
    rows = await conn.execute(
        select(
            _FRESH.c.event_type,
            func.min(_FRESH.c.first_event_at),
            func.max(_FRESH.c.last_event_at),
            func.max(_FRESH.c.last_ingested_at),
            func.min(_FRESH.c.last_event_at).filter(_FRESH.c.last_ingested_at >= since),
        ).group_by(_FRESH.c.event_type)
    )
    return {t: StreamSpan(*times) for t, *times in rows}


async def events_of_type(
    conn: AsyncConnection, event_type: str, *, start: datetime, end: datetime
) -> int:
    """Unique events of one type whose hour of event time starts in ``[start, end)``."""
    total = await conn.scalar(
        select(func.coalesce(func.sum(_HOURLY.c.events), 0)).where(
            _HOURLY.c.event_type == event_type,
            _HOURLY.c.bucket_start >= start,
            _HOURLY.c.bucket_start < end,
        )
    )
    return int(total or 0)


_CLOSURE = SourceClosure.__table__


async def closures_in(conn: AsyncConnection, *, start: datetime, end: datetime) -> list[Closure]:
    """The closures in force (not withdrawn) that overlap ``[start, end)``."""
    rows = await conn.execute(
        select(_CLOSURE).where(
            _CLOSURE.c.withdrawn_at.is_(None),
            _CLOSURE.c.starts_at < end,
            _CLOSURE.c.ends_at > start,
        )
    )
    return [Closure.of(r) for r in rows]


async def closure_records(conn: AsyncConnection, *, start: datetime, end: datetime) -> list[Any]:
    """Every declared closure overlapping ``[start, end)``, withdrawn ones too (the record)."""
    rows = await conn.execute(
        select(_CLOSURE)
        .where(_CLOSURE.c.starts_at < end, _CLOSURE.c.ends_at > start)
        .order_by(_CLOSURE.c.starts_at, _CLOSURE.c.id)
    )
    return list(rows)


async def declare_closure(conn: AsyncConnection, closure: Closure, declared_by: str) -> Any:
    row = await conn.execute(
        insert(SourceClosure)
        .values(
            source=closure.source,
            unit_code=closure.unit_code,
            kinds=list(closure.kinds),
            starts_at=closure.starts_at,
            ends_at=closure.ends_at,
            reason=closure.reason,
            declared_by=declared_by,
        )
        .returning(_CLOSURE)
    )
    return row.one()


async def withdraw_closure(
    conn: AsyncConnection, closure_id: int, withdrawn_by: str, at: datetime
) -> Any | None:
    """Withdraw a closure in force; None when there is no such closure in force."""
    row = await conn.execute(
        update(SourceClosure)
        .where(_CLOSURE.c.id == closure_id, _CLOSURE.c.withdrawn_at.is_(None))
        .values(withdrawn_by=withdrawn_by, withdrawn_at=at)
        .returning(_CLOSURE)
    )
    return row.one_or_none()

"""SQL over the data-quality roll-ups: events per source and hour, and each source's freshness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
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
    bucket: Bucket | None,
    start: datetime,
    end: datetime,
    sources: list[str] | None = None,
) -> list[SourceCounts]:
    """Unique events, timely events and summed lag per (source, bucket of event time)
    (``bucket`` None: per source over the whole range, given as starting at ``start``, with
    no bucket worked out row by row), optionally of some event types or some sources only;
    whole local days are read from the day tier (365 rows a source-year instead of 8,760)."""
    totals: dict[tuple[str, datetime], list[float]] = {}
    for grain, span_start, span_end in spans(bucket or Bucket.YEAR, start, end):
        table = _TIERS.day if grain is Grain.DAY else _TIERS.hour
        keys: list[ColumnElement[Any]] = [table.c.source]
        if bucket is not None:
            keys.append(bucket.start_of(table.c.bucket_start).label("period_start"))
        stmt = (
            select(
                *keys,
                func.sum(table.c.events).label("received"),
                func.sum(table.c.within_1h).label("on_time"),
                func.sum(table.c.lag_seconds_sum).label("lag_sum"),
            )
            .where(table.c.bucket_start >= span_start, table.c.bucket_start < span_end)
            .group_by(*keys)
        )
        if event_types is not None:
            stmt = stmt.where(table.c.event_type.in_(event_types))
        if sources is not None:
            stmt = stmt.where(table.c.source.in_(sources))
        for r in await conn.execute(stmt):
            period = r.period_start if bucket is not None else start
            acc = totals.setdefault((r.source, period), [0, 0, 0.0])
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


async def sources_seen(conn: AsyncConnection) -> frozenset[str]:
    """The sources with at least one stored event."""
    rows = await conn.execute(select(_FRESH.c.source).distinct())
    return frozenset(r for (r,) in rows)


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

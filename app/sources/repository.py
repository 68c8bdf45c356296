"""SQL over the event tables: per source and hour, how many events came and how promptly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.buckets import Bucket
from models.events import REGISTRY
from models.tables import Base

ON_TIME_DELAY = timedelta(hours=1)
"""An event stored within this delay of happening counts as delivered on time."""


def event_table(event_type: str) -> Table | None:
    """The event table of a type (``<sector>_<kind>``), when it logs source and times."""
    et = REGISTRY[event_type]
    table = Base.metadata.tables.get(f"{et.sector}_{et.kind}")
    if table is None or not {"source", "occurred_at", "ingested_at"} <= set(table.c.keys()):
        return None
    return table


@dataclass(frozen=True, slots=True)
class SourceCounts:
    source: str
    period_start: datetime
    received: int
    on_time: int
    lag_seconds_sum: float
    last_event_at: datetime | None


async def counts(
    conn: AsyncConnection,
    event_types: list[str],
    *,
    bucket: Bucket,
    start: datetime,
    end: datetime,
) -> list[SourceCounts]:
    """Received and on-time events per (source, bucket), over the given event types."""
    parts = []
    for type_name in event_types:
        table = event_table(type_name)
        if table is None:
            continue
        lag = func.extract("epoch", table.c.ingested_at - table.c.occurred_at)
        period = bucket.start_of(table.c.occurred_at).label("period_start")
        parts.append(
            select(
                table.c.source,
                period,
                func.count().label("received"),
                func.count().filter(lag <= ON_TIME_DELAY.total_seconds()).label("on_time"),
                func.coalesce(func.sum(lag), 0).label("lag_sum"),
                func.max(table.c.occurred_at).label("last_event_at"),
            )
            .where(table.c.occurred_at >= start, table.c.occurred_at < end)
            .group_by(table.c.source, period)
        )
    if not parts:
        return []
    union = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    stmt = select(
        union.c.source,
        union.c.period_start,
        func.sum(union.c.received).label("received"),
        func.sum(union.c.on_time).label("on_time"),
        func.sum(union.c.lag_sum).label("lag_sum"),
        func.max(union.c.last_event_at).label("last_event_at"),
    ).group_by(union.c.source, union.c.period_start)
    rows = (await conn.execute(stmt)).all()
    return [
        SourceCounts(
            r.source, r.period_start, int(r.received), int(r.on_time), float(r.lag_sum),
            r.last_event_at,
        )
        for r in rows
    ]  # fmt: skip


async def last_events(
    conn: AsyncConnection, event_types: list[str], *, since: datetime, end: datetime
) -> dict[str, datetime]:
    """Newest event time per source in ``[since, end)``."""
    parts = []
    for type_name in event_types:
        table = event_table(type_name)
        if table is not None:
            parts.append(
                select(table.c.source, func.max(table.c.occurred_at).label("last"))
                .where(table.c.occurred_at >= since, table.c.occurred_at < end)
                .group_by(table.c.source)
            )
    if not parts:
        return {}
    sub = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    rows = await conn.execute(select(sub.c.source, func.max(sub.c.last)).group_by(sub.c.source))
    return {source: last for source, last in rows}

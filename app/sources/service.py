"""Expected vs received per source system, from the source registry and the event tables.

A source is expected to send ``expected_per_hour`` events in each of its reporting hours
(local time, on its reporting weekdays; an office-hours source, one that does not report on
Sundays, is also not expected on public holidays, Tết included). Status compares the
reporting time elapsed since its last event: under one reporting hour is *fresh*, under
three is *late*, beyond is *silent*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.buckets import LOCAL, Bucket
from app.sources import repository
from app.sources.schemas import SourceStatus
from models.calendar import FIRST_YEAR, LAST_YEAR, is_working_day
from models.sources import SourceSystem, source_registry

HOUR = timedelta(hours=1)
LATE_AFTER_HOURS = 1.0
SILENT_AFTER_HOURS = 3.0


def _reports_in(source: SourceSystem, hour_start: datetime) -> bool:
    """Is the local hour starting at ``hour_start`` one of the source's reporting hours?"""
    local = hour_start.astimezone(LOCAL)
    if not source.reporting_hours[0] <= local.hour < source.reporting_hours[1]:
        return False
    return _reports_on(source, local.date())


def _hour_slots(start: datetime, end: datetime) -> Iterable[tuple[datetime, float]]:
    """Local hour starts covering ``[start, end)`` with the fraction of each hour inside."""
    cursor = start.astimezone(LOCAL).replace(minute=0, second=0, microsecond=0)
    while cursor < end:
        nxt = cursor + HOUR
        inside = (min(nxt, end) - max(cursor, start)) / HOUR
        if inside > 0:
            yield cursor, inside
        cursor = nxt


def _schedule(source: SourceSystem) -> tuple[object, ...]:
    return (
        source.reporting_hours,
        source.reporting_weekdays,
        source.hourly_profile,
        source.weekday_profile,
    )


def _reports_on(source: SourceSystem, day: date) -> bool:
    """Is ``day`` one of the source's reporting days (weekday, and no holiday for offices)?"""
    if day.weekday() not in source.reporting_weekdays:
        return False
    office = 6 not in source.reporting_weekdays
    in_calendar = FIRST_YEAR <= day.year <= LAST_YEAR
    return not (office and in_calendar and not is_working_day(day))


def _schedule_hours(
    sample: SourceSystem, bucket: Bucket, start: datetime, end: datetime
) -> dict[datetime, float]:
    """Reporting hours per bucket of one schedule, each weighted by the source's hour and
    weekday profiles (a clinic's 09:00 counts more than its 15:00): whole local days at a
    time (a 20-year range is 7,300 steps, not 175,000), hour by hour only in the partial
    edge days."""
    hours: dict[datetime, float] = defaultdict(float)
    first_day = start.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    if first_day < start:
        first_day += timedelta(days=1)
    last_day = end.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket is Bucket.HOUR or first_day >= last_day:
        edges = [(start, end)]
    else:
        edges = [(start, first_day), (last_day, end)]
        per_day = sum(sample.hour_weight(h) for h in range(*sample.reporting_hours))
        day = first_day
        while day < last_day:
            if _reports_on(sample, day.date()):
                hours[bucket.floor(day)] += per_day * sample.day_weight(day.weekday())
            day = (day + timedelta(days=1)).replace(tzinfo=LOCAL)
    for edge_start, edge_end in edges:
        for slot, fraction in _hour_slots(edge_start, edge_end):
            if _reports_in(sample, slot):
                weight = sample.hour_weight(slot.hour) * sample.day_weight(slot.weekday())
                hours[bucket.floor(slot)] += fraction * weight
    return hours


def reporting_hours_by_period(
    sources: Iterable[SourceSystem], bucket: Bucket, start: datetime, end: datetime
) -> dict[str, dict[datetime, float]]:
    """For each source, reporting hours per bucket start in ``[start, end)``.

    Sources share a handful of schedules, so each schedule is walked once.
    """
    by_schedule: dict[tuple[object, ...], list[SourceSystem]] = defaultdict(list)
    for source in sources:
        by_schedule[_schedule(source)].append(source)
    out: dict[str, dict[datetime, float]] = {}
    for group in by_schedule.values():
        hours = _schedule_hours(group[0], bucket, start, end)
        for source in group:
            out[source.code] = hours
    return out


def sources_for(event_types: Iterable[str] | None) -> list[SourceSystem]:
    wanted = set(event_types) if event_types is not None else None
    return [s for s in source_registry() if wanted is None or wanted & set(s.event_types)]


async def source_metric(
    conn: AsyncConnection,
    kind: str,
    event_types: list[str] | None,
    commune_to_unit: dict[str, str],
    *,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[tuple[str, datetime], float]:
    """``expected`` / ``received`` / ``on_time`` events per (unit, bucket) of sources located
    in the units (``commune_to_unit`` maps a source's commune to the unit it counts for)."""
    sources = [s for s in sources_for(event_types) if s.commune_code in commune_to_unit]
    out: dict[tuple[str, datetime], float] = defaultdict(float)
    if kind == "expected_events":
        hours = reporting_hours_by_period(sources, bucket, start, min(end, now))
        for source in sources:
            unit = commune_to_unit[source.commune_code]
            for period, n in hours[source.code].items():
                out[unit, period] += n * source.expected_per_hour
        return dict(out)
    by_code = {s.code: s for s in sources}
    # Every event of the chosen sources counts: their expectation covers all their types.
    chosen = list(by_code) if event_types is not None else None
    for row in await repository.counts(
        conn, None, sources=chosen, bucket=bucket, start=start, end=end
    ):
        found = by_code.get(row.source)
        if found is None:
            continue
        unit = commune_to_unit[found.commune_code]
        out[unit, row.period_start] += row.received if kind == "received_events" else row.on_time
    return dict(out)


def status_of(
    source: SourceSystem, last_event_at: datetime | None, start: datetime, as_of: datetime
) -> tuple[str, float]:
    """(status, reporting hours elapsed since the last event, or since ``start``).

    Walks back from ``as_of`` and stops once the source counts as silent, so a source
    that has been quiet for a year costs no more than one quiet for an afternoon.
    """
    since = max(last_event_at, start) if last_event_at else start
    silent_hours = 0.0
    cursor = as_of.astimezone(LOCAL).replace(minute=0, second=0, microsecond=0)
    while cursor + HOUR > since and silent_hours < SILENT_AFTER_HOURS:
        inside = (min(cursor + HOUR, as_of) - max(cursor, since)) / HOUR
        if inside > 0 and _reports_in(source, cursor):
            silent_hours += inside
        cursor -= HOUR
    if silent_hours < LATE_AFTER_HOURS:
        return "fresh", silent_hours
    if silent_hours < SILENT_AFTER_HOURS:
        return "late", silent_hours
    return "silent", silent_hours


async def source_statuses(
    conn: AsyncConnection, *, start: datetime, end: datetime, now: datetime
) -> list[SourceStatus]:
    """One status per registered source over ``[start, end)``, judged as of ``min(end, now)``."""
    sources = sources_for(None)
    as_of = min(end, now)
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for row in await repository.counts(conn, None, bucket=Bucket.YEAR, start=start, end=end):
        acc = totals[row.source]
        acc[0] += row.received
        acc[1] += row.on_time
        acc[2] += row.lag_seconds_sum
    fresh = await repository.freshness(conn)
    hours_seen = await repository.last_hours(conn, start=start, end=end)
    hours = reporting_hours_by_period(sources, Bucket.YEAR, start, as_of)
    items = []
    for source in sources:
        received, on_time, lag_sum = totals.get(source.code, (0, 0, 0.0))
        expected = sum(hours[source.code].values()) * source.expected_per_hour
        seen = fresh.get(source.code)
        last = seen.last_event_at if seen and seen.last_event_at < end else None
        if seen and last is None and source.code in hours_seen:  # it has sent more since
            last = min(hours_seen[source.code] + HOUR, end)
        status, silent_hours = status_of(source, last, start, as_of)
        items.append(
            SourceStatus(
                source=source.code,
                name=source.name,
                unit_code=source.commune_code,
                sector=source.sector,
                event_types=list(source.event_types),
                last_event_at=seen.last_event_at if seen else None,
                lag_seconds=round(lag_sum / received, 1) if received else None,
                expected=round(expected, 2),
                received=int(received),
                completeness=round(min(1.0, received / expected), 4) if expected else None,
                on_time_share=round(on_time / received, 4) if received else None,
                silent_reporting_hours=round(silent_hours, 2),
                status=status,
            )
        )
    return items

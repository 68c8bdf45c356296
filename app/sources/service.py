"""Expected vs received per source system, from the source registry and the event tables.

Two measures, kept apart:

- *completeness*: owed reporting slots (``models.cadence``: hours, days or weeks) in which
  something arrived ÷ owed slots due, at most 100 % by construction;
- *volume*: events received ÷ the ``expected_per_hour`` events of each reporting hour
  (weighted by the source's hour and weekday profiles; office sources expect nothing on
  public holidays, schools nothing out of term), which follows the seasons and may pass 100 %.

Status follows the cadence too (``app.sources.slots.standing``): *fresh* when the last slot
it owed arrived, *late* once an owed slot is overdue past the grace, *silent* after three,
*closed* while a declared closure holds (``models.closures``: a closed source owes nothing,
in status and completeness alike).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.buckets import LOCAL, Bucket
from app.sources import repository
from app.sources.completeness import (
    closed_in,
    completeness_of,
    located_in,
    slot_sums,
    slot_tally,
    slots_per_source,
    sources_for,
    whole_days_only,
)
from app.sources.schemas import SourceStatus
from app.sources.slots import DAY, LOOKBACK, Masks, local_days, standing, tally
from models.cadence import cadence_of
from models.clock import floor_local_day
from models.sources import SourceSystem

__all__ = [
    "SLOT_KINDS",
    "completeness_of",
    "slot_sums",
    "slot_tally",
    "source_metric",
    "source_statuses",
    "sources_for",
]

HOUR = timedelta(hours=1)
SLOT_KINDS = ("expected_slots", "received_slots")


def _reports_in(source: SourceSystem, hour_start: datetime) -> bool:
    """Is the local hour starting at ``hour_start`` one of the source's reporting hours?"""
    local = hour_start.astimezone(LOCAL)
    if not source.reporting_hours[0] <= local.hour < source.reporting_hours[1]:
        return False
    return source.reports_on(local.date())


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
        source.calendar,
    )


DayCounts = dict[datetime, list[int]]
"""Bucket start → how many reporting days of each weekday (Monday first) it holds."""


def _reporting_days(
    sample: SourceSystem, bucket: Bucket, first_day: datetime, last_day: datetime
) -> DayCounts:
    """The whole local days in ``[first_day, last_day)`` the source reports on, counted per
    bucket and weekday: what every schedule with its weekdays and calendar shares."""
    out: DayCounts = {}
    day = first_day
    while day < last_day:
        if sample.reports_on(day.date()):
            counts = out.get(period := bucket.floor(day))
            if counts is None:
                counts = out[period] = [0] * 7
            counts[day.weekday()] += 1
        day = (day + timedelta(days=1)).replace(tzinfo=LOCAL)
    return out


def _schedule_hours(
    sample: SourceSystem,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    day_counts: dict[tuple[object, ...], DayCounts],
) -> dict[datetime, float]:
    """Reporting hours per bucket of one schedule, each weighted by the source's hour and
    weekday profiles (a clinic's 09:00 counts more than its 15:00): whole local days counted
    per weekday once for every schedule of the same days (``day_counts``, a year is 365 steps
    for a few calendars, not for each of fifty schedules), hour by hour only in the partial
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
        weights = [per_day * sample.day_weight(w) for w in range(7)]
        key = (sample.reporting_weekdays, sample.calendar)
        if key not in day_counts:
            day_counts[key] = _reporting_days(sample, bucket, first_day, last_day)
        for period, counts in day_counts[key].items():
            hours[period] += sum(n * weights[w] for w, n in enumerate(counts) if n)
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
    day_counts: dict[tuple[object, ...], DayCounts] = {}
    for group in by_schedule.values():
        hours = _schedule_hours(group[0], bucket, start, end, day_counts)
        for source in group:
            out[source.code] = hours
    return out


def _as_it_stood(masks: Masks, sources: list[SourceSystem], as_of: datetime) -> Masks:
    """The arrivals status judges at ``as_of`` (the days from its look-back on, the hours of
    ``as_of``'s day up to its hour): a few weeks of masks, not the period's year."""
    cut = as_of.astimezone(LOCAL)
    today = cut.date()
    out: Masks = {}
    for day in local_days(as_of - LOOKBACK - 7 * DAY, as_of):
        for source in sources:
            mask = masks.get((source.code, day))
            if mask is not None:
                out[source.code, day] = mask & ((1 << (cut.hour + 1)) - 1) if day == today else mask
    return out


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
    volume_scale: float,
) -> dict[tuple[str, datetime], float]:
    """``expected`` / ``received`` / ``on_time`` events per (unit, bucket) of sources located
    in the units (``commune_to_unit`` maps a source's commune to the unit it counts for)."""
    sources = located_in(event_types, volume_scale, commune_to_unit)
    out: dict[tuple[str, datetime], float] = defaultdict(float)
    if kind in SLOT_KINDS:
        sums = await slot_sums(
            conn, event_types, commune_to_unit, bucket=bucket, start=start, end=end, now=now,
            volume_scale=volume_scale,
        )  # fmt: skip
        return sums[SLOT_KINDS.index(kind)]
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


async def source_statuses(
    conn: AsyncConnection, *, start: datetime, end: datetime, now: datetime, volume_scale: float
) -> list[SourceStatus]:
    """One status per registered source over ``[start, end)``, judged as of ``min(end, now)``,
    each expecting its volume at ``volume_scale`` (``IOC_VOLUME_SCALE``)."""
    sources = sources_for(None, volume_scale)
    as_of = min(end, now)
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for row in await repository.counts(conn, None, bucket=None, start=start, end=end):
        acc = totals[row.source]
        acc[0] += row.received
        acc[1] += row.on_time
        acc[2] += row.lag_seconds_sum
    fresh = await repository.freshness(conn)
    starts = {
        t: span.first_event_at.replace(minute=0, second=0, microsecond=0)
        for t, span in (await repository.stream_spans(conn)).items()
    }
    hours = reporting_hours_by_period(sources, Bucket.YEAR, start, as_of)
    first = min(start, as_of - LOOKBACK) - 7 * DAY
    # The period's slots as known now; its status as it stood at ``as_of`` (when judging a
    # moment in the past, only what had happened by then).
    closed = await closed_in(conn, sources, first, max(end, as_of) + 8 * DAY)
    if whole_days_only(start, end) and repository.day_masks_kept():
        # The period's slots summed per source by the database (but the closed sources');
        # the masks of the weeks status looks back over read alone.
        slot_counts = await slots_per_source(conn, sources, start, end, now, first, closed)
        recent = max(first, floor_local_day(as_of - LOOKBACK - 7 * DAY))
        masks = await repository.hour_masks(conn, None, start=recent, end=max(end, as_of) + DAY)
    else:
        masks = await repository.hour_masks(conn, None, start=first, end=max(end, as_of) + DAY)
        slot_counts = tally(sources, masks, Bucket.YEAR, start, end, now, closed=closed)
    masks = _as_it_stood(masks, sources, as_of)
    items = []
    for source in sources:
        received, on_time, lag_sum = totals.get(source.code, (0, 0, 0.0))
        expected = sum(hours[source.code].values()) * source.expected_per_hour
        owed = sum(c[0] for c in slot_counts[source.code].values())
        arrived = sum(c[1] for c in slot_counts[source.code].values())
        seen = fresh.get(source.code)
        # Owed from where its stream's data starts (a slot before it was never observed);
        # a stream never seen at all is owed throughout: a feed down since the start.
        since = min((starts[t] for t in source.event_types if t in starts), default=None)
        where = standing(source, masks, as_of, since, closed.get(source.code, ()))
        items.append(
            SourceStatus(
                source=source.code,
                name=source.name,
                unit_code=source.commune_code,
                sector=source.sector,
                event_types=list(source.event_types),
                cadence=cadence_of(source).slot,
                last_event_at=seen.last_event_at if seen else None,
                lag_seconds=round(lag_sum / received, 1) if received else None,
                expected_slots=owed,
                received_slots=arrived,
                completeness=round(arrived / owed, 4) if owed else None,
                expected=round(expected, 2),
                received=int(received),
                volume_ratio=round(received / expected, 4) if expected else None,
                on_time_share=round(on_time / received, 4) if received else None,
                missed_slots=where.missed_slots,
                overdue_since=where.overdue_since,
                next_due_at=where.next_due_at,
                status=where.status,
            )
        )
    return items

"""Owed and arrived reporting slots of the sources in some units: completeness's sums.

Over whole local days the database sums what arrived from the source day masks while what
each schedule owes is worked out once in Python (``app.sources.day_plan`` for a day or
longer bucket, ``slot_plan`` for an hour bucket); a source closed at some point in the range,
and a range off local midnight, are tallied source by source from their masks
(``app.sources.slots.tally``), which is also what the tests recount with.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.buckets import Bucket
from app.sources import arrivals, repository
from app.sources.day_plan import DayPlan, SlotPlan, day_plan, slot_plan
from app.sources.slots import DAY, tally
from models.clock import floor_local_day
from models.closures import Intervals, closed_intervals
from models.sources import SourceSystem, source_registry


def sources_for(event_types: Iterable[str] | None, volume_scale: float) -> list[SourceSystem]:
    """The sources sending any of ``event_types`` (None: all), expecting ``volume_scale``."""
    wanted = set(event_types) if event_types is not None else None
    return [
        s for s in source_registry(volume_scale) if wanted is None or wanted & set(s.event_types)
    ]


def located_in(
    event_types: Iterable[str] | None, volume_scale: float, commune_to_unit: Mapping[str, str]
) -> list[SourceSystem]:
    """:func:`sources_for` located in the units ``commune_to_unit`` maps communes to."""
    return [s for s in sources_for(event_types, volume_scale) if s.commune_code in commune_to_unit]


async def slot_tally(
    conn: AsyncConnection,
    sources: list[SourceSystem],
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
    observed_from: Mapping[str, datetime | None] | None = None,
) -> dict[str, dict[datetime, list[int]]]:
    """Per source and bucket: [owed slots due or arrived, of which arrived]; with
    ``observed_from``, only slots that begin once the source's data is observed."""
    if not sources:
        return {}
    # A week slot ending in the range looks at its whole week; a day slot at its whole day.
    masks = await repository.hour_masks(
        conn, _codes_or_all(sources), start=start - 7 * DAY, end=end + DAY
    )
    closed = await closed_in(conn, sources, start - 7 * DAY, end + DAY)
    return tally(sources, masks, bucket, start, end, now, observed_from, closed)


async def closed_in(
    conn: AsyncConnection, sources: list[SourceSystem], start: datetime, end: datetime
) -> Intervals:
    """The declared closures of the sources overlapping ``[start, end)``."""
    return closed_intervals(await repository.closures_in(conn, start=start, end=end), sources)


def whole_days_only(start: datetime, end: datetime) -> bool:
    """Do ``start`` and ``end`` fall on local midnights (so do the days a tally looks at)?"""
    return floor_local_day(start) == start and floor_local_day(end) == end


def _codes_or_all(sources: list[SourceSystem]) -> list[str] | None:
    return None if len(sources) == len(source_registry()) else [s.code for s in sources]


async def slot_sums(
    conn: AsyncConnection,
    event_types: list[str] | None,
    commune_to_unit: dict[str, str],
    *,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
    volume_scale: float,
) -> tuple[dict[tuple[str, datetime], float], dict[tuple[str, datetime], float]]:
    """Owed slots due or arrived, and arrived, per (unit, bucket) of the sources located in
    the units: both from one tally."""
    sources = located_in(event_types, volume_scale, commune_to_unit)
    expected: dict[tuple[str, datetime], float] = defaultdict(float)
    received: dict[tuple[str, datetime], float] = defaultdict(float)
    commune = {s.code: s.commune_code for s in sources}
    if sources and whole_days_only(start, end) and repository.day_masks_kept():
        # The sources closed at some point are tallied one by one below; the others'
        # arrivals are summed per unit and period in the database.
        closed = await closed_in(conn, sources, start - 7 * DAY, end + DAY)
        unit_of = {s.code: commune_to_unit[s.commune_code] for s in sources}
        planned = [s for s in sources if s.code not in closed]
        await _planned_sums(conn, planned, unit_of, bucket, start, end, now, expected, received)
        sources = [s for s in sources if s.code in closed]
        if not sources:
            return dict(expected), dict(received)
    for code, periods in (await slot_tally(conn, sources, bucket, start, end, now)).items():
        unit = commune_to_unit[commune[code]]
        for period, (owed, arrived) in periods.items():
            expected[unit, period] += owed
            received[unit, period] += arrived
    return dict(expected), dict(received)


async def _planned_sums(
    conn: AsyncConnection,
    sources: list[SourceSystem],
    unit_of: Mapping[str, str],
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
    expected: dict[tuple[str, datetime], float],
    received: dict[tuple[str, datetime], float],
) -> None:
    """Add the owed slots (due or arrived) and the arrived ones of ``sources`` (none closed
    in the range, which starts and ends on local midnights) per (unit, bucket) to
    ``expected`` and ``received``: what every source of a schedule owes is worked out once
    (``day_plan``, or ``slot_plan`` for hours), what arrived is counted by the database from
    the day masks."""
    chosen = {s.code: unit_of[s.code] for s in sources}
    plan: DayPlan | SlotPlan
    if bucket is Bucket.HOUR:
        plan = slot_plan(sources, bucket, start, end, now)
        got = await arrivals.arrived_slots(conn, chosen, plan.schedule_of, plan.rows)
    else:
        plan = day_plan(sources, bucket, start, end, now)
        got = await arrivals.arrived_by_day(conn, chosen, plan)
    # Every source of a schedule owes the same: its slots times the unit's sources of it.
    owed: dict[tuple[str, int], int] = defaultdict(int)
    sharing = Counter((chosen[code], number) for code, number in plan.schedule_of.items())
    for (unit, number), k in sharing.items():
        for period, n in plan.owed[number].items():
            owed[unit, period] += k * n
    periods = plan.periods
    for key in sorted(owed.keys() | got.keys(), key=lambda k: (periods[k[1]], k[0])):
        arrived, only_arrived = got.get(key, (0, 0))
        if n_owed := owed.get(key, 0) + only_arrived:
            unit, when = key[0], periods[key[1]]
            expected[unit, when] += n_owed
            received[unit, when] += arrived


def completeness_of(
    expected: dict[tuple[str, datetime], float], received: dict[tuple[str, datetime], float]
) -> dict[tuple[str, datetime], float]:
    """Arrived ÷ owed slots per key, to 4 decimals; keys with nothing owed have none."""
    return {key: round(received.get(key, 0.0) / n, 4) for key, n in expected.items() if n > 0}


async def slots_per_source(
    conn: AsyncConnection,
    sources: list[SourceSystem],
    start: datetime,
    end: datetime,
    now: datetime,
    first: datetime,
    closed: Intervals,
) -> dict[str, dict[datetime, list[int]]]:
    """Per source, [owed slots due or arrived, arrived] over ``[start, end)`` (whole local
    days), as :func:`tally` counts them: in the database but for the sources ``closed`` at
    some point, which are tallied from their masks (read from ``first``)."""
    expected: dict[tuple[str, datetime], float] = defaultdict(float)
    received: dict[tuple[str, datetime], float] = defaultdict(float)
    planned = [s for s in sources if s.code not in closed]
    itself = {s.code: s.code for s in planned}
    await _planned_sums(conn, planned, itself, Bucket.YEAR, start, end, now, expected, received)
    out: dict[str, dict[datetime, list[int]]] = {s.code: {} for s in sources}
    for (code, period), n in expected.items():
        out[code][period] = [int(n), int(received[code, period])]
    shut = [s for s in sources if s.code in closed]
    if shut:
        codes = [s.code for s in shut]
        masks = await repository.hour_masks(conn, codes, start=first, end=end + DAY)
        out.update(tally(shut, masks, Bucket.YEAR, start, end, now, closed=closed))
    return out

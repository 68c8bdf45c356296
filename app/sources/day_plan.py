"""What each schedule owes, day by day, laid out as arrays the database indexes.

Completeness over a long range counts, for every source, which of its owed slots arrived.
What a source owes depends only on its schedule (cadence, calendar, weekdays), so it is
worked out once per schedule (about thirty for a province) and kept: over a past range it
does not change from one request to the next. What arrived is then one array lookup per
(source, day) of the source day masks in the database (``app.sources.arrivals``), not a
join of those rows with a row per planned slot and day.

A day's cell holds the hours that count: for an ``hour`` schedule each arrived owed hour
is a slot (the arrived bits are counted), for a ``day`` schedule any arrival fills the
day's slot, for a ``week`` schedule any arrival on any of the week's seven days fills the
week's slot. ``hours`` holds the hours of every slot a day's cell counts, ``pending`` those
of the slots not yet due (counted only once they arrive).

An hour bucket's slots of one day fall in several periods: its plan (``slot_plan``) is a row
per slot and day, joined to the masks (``app.sources.arrivals.arrived_slots``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.kit.buckets import LOCAL, Bucket
from app.sources.slots import counted_slots, local_midnight
from models.cadence import GRACE, SlotKind, cadence_of
from models.sources import SourceSystem

KIND_NUMBER: dict[SlotKind, int] = {"hour": 0, "day": 1, "week": 2, "none": 1}
"""How the database counts a schedule's cells: 0 arrived bits, 1 any arrival, 2 a week's."""


@dataclass(frozen=True, slots=True)
class _Owes:
    """One schedule's cells over the days from ``first`` (see the module docstring)."""

    kind: int
    hours: list[int]
    pending: list[int]
    period: list[datetime | None]
    owed: dict[datetime, int]
    """Bucket start → slots each source of the schedule owes there, arrived or not (the
    due ones; a whole day's owed hours)."""


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The cells of every schedule of some sources, flattened schedule after schedule
    (``days`` cells each from ``first``), for ``app.sources.arrivals.arrived_by_day``."""

    first: dt.date
    days: int
    schedule_of: dict[str, int]
    """Source code → its schedule's number."""
    periods: list[datetime]
    """Period number → bucket start, in time order."""
    kinds: list[int]
    hours: list[int]
    pending: list[int]
    period: list[int]
    """Per cell, its period number (-1: a day owing nothing)."""
    owed: list[dict[int, int]]
    """Schedule → period number → slots each of its sources owes there (as ``_Owes.owed``)."""


_KEPT: dict[tuple[object, ...], _Owes] = {}
_KEEP_AT_MOST = 256
"""Schedules × ranges kept (a province has about thirty schedules; a plan is a few KB)."""


def _owes(
    source: SourceSystem,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
    first: dt.date,
    days: int,
) -> _Owes:
    """The cells of ``source``'s schedule; kept when the range is over (every slot in it is
    due whatever ``now`` is then), worked out afresh while it is under way."""
    over = end + GRACE <= now
    key = (cadence_of(source), source.calendar, source.reporting_weekdays, bucket, start, end,
           first, days, None if over else now)  # fmt: skip
    if (kept := _KEPT.get(key)) is not None:
        return kept
    cadence = cadence_of(source)
    cells, pending = [0] * days, [0] * days
    period: list[datetime | None] = [None] * days
    owed: dict[datetime, int] = {}
    for counted in counted_slots(source, bucket, start, end, now):
        hours = counted.owed.hours
        if counted.whole_day:
            owed[counted.period] = owed.get(counted.period, 0) + hours.bit_count()
        elif counted.due:
            owed[counted.period] = owed.get(counted.period, 0) + 1
        for day in counted.owed.days:
            i = (day - first).days
            if i < 0:
                raise ValueError("a slot looks at a day before the plan's first")
            cells[i] |= hours
            if not counted.due and not counted.whole_day:
                pending[i] |= hours
            if period[i] not in (None, counted.period):
                raise ValueError("one period per schedule and day")  # an hour bucket's slots
            period[i] = counted.period
    out = _Owes(KIND_NUMBER[cadence.slot], cells, pending, period, owed)
    if over:
        if len(_KEPT) >= _KEEP_AT_MOST:
            _KEPT.clear()
        _KEPT[key] = out
    return out


def day_plan(
    sources: Iterable[SourceSystem], bucket: Bucket, start: datetime, end: datetime, now: datetime
) -> DayPlan:
    """The cells of ``sources``' schedules for a tally of ``[start, end)`` (local midnights)
    by ``bucket`` (a day or longer: an hour bucket's slots of one day fall in several
    periods): from the Monday of ``start``'s week, the first day a week slot looks at, in
    whole weeks (so cell ``7 k`` to ``7 k + 6`` of a schedule are a Monday to a Sunday)."""
    if bucket is Bucket.HOUR:
        raise ValueError("a day plan counts by the day or longer")
    first = start.astimezone(LOCAL).date()
    first -= dt.timedelta(days=first.weekday())
    days = -(-((end.astimezone(LOCAL).date() - first).days + 1) // 7) * 7
    numbers: dict[tuple[object, ...], int] = {}
    schedule_of: dict[str, int] = {}
    plans: list[_Owes] = []
    for source in sources:
        schedule = (cadence_of(source), source.calendar, source.reporting_weekdays)
        number = numbers.get(schedule)
        if number is None:
            number = numbers[schedule] = len(plans)
            plans.append(_owes(source, bucket, start, end, now, first, days))
        schedule_of[source.code] = number
    periods = sorted({p for plan in plans for p in plan.period if p is not None})
    period_no = {p: n for n, p in enumerate(periods)}
    return DayPlan(
        first,
        days,
        schedule_of,
        periods,
        [plan.kind for plan in plans],
        [cell for plan in plans for cell in plan.hours],
        [cell for plan in plans for cell in plan.pending],
        [-1 if p is None else period_no[p] for plan in plans for p in plan.period],
        [{period_no[p]: n for p, n in plan.owed.items()} for plan in plans],
    )


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """The slots a tally counts for some sources, laid out for the database to look the
    arrivals up (``repository.arrived_slots``): what every source of a schedule owes is
    known without its data, only what arrived needs its day masks.

    ``rows``: one per (slot, local day it looks at): (schedule, slot number, local
    midnight, hours mask, whole-day?, counted only if arrived?, a slot of several days?,
    period number); a whole-day
    row counts the arrived hours (bits), any other row whether any of its hours arrived
    (a week slot has seven rows, filled if any of them is)."""

    schedule_of: dict[str, int]
    """Source code → its schedule's number."""
    periods: list[datetime]
    """Period number → bucket start."""
    owed: dict[int, dict[int, int]]
    """Schedule → period number → slots each of its sources owes there, arrived or not
    (the due ones; a whole day's owed hours)."""
    rows: list[tuple[int, int, datetime, int, bool, bool, bool, int]]


def slot_plan(
    sources: Iterable[SourceSystem], bucket: Bucket, start: datetime, end: datetime, now: datetime
) -> SlotPlan:
    """The plan of :func:`tally` for ``sources`` (none observed-from, none closed), each
    schedule worked out once."""
    plans: dict[tuple[object, ...], int] = {}
    schedule_of: dict[str, int] = {}
    period_no: dict[datetime, int] = {}
    owed: dict[int, dict[int, int]] = {}
    rows: list[tuple[int, int, datetime, int, bool, bool, bool, int]] = []
    for source in sources:
        schedule = (cadence_of(source), source.calendar, source.reporting_weekdays)
        number = plans.get(schedule)
        if number is None:
            number = plans[schedule] = len(plans)
            per = owed[number] = {}
            for slot, counted in enumerate(counted_slots(source, bucket, start, end, now)):
                period = period_no.setdefault(counted.period, len(period_no))
                hours = counted.owed.hours
                if counted.whole_day:
                    per[period] = per.get(period, 0) + hours.bit_count()
                elif counted.due:
                    per[period] = per.get(period, 0) + 1
                pending = not counted.due and not counted.whole_day
                days = counted.owed.days
                many = len(days) > 1
                for day in days:
                    row = (
                        number,
                        slot,
                        local_midnight(day),
                        hours,
                        counted.whole_day,
                        pending,
                        many,
                    )
                    rows.append((*row, period))
        schedule_of[source.code] = number
    return SlotPlan(schedule_of, list(period_no), owed, rows)

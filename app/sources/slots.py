"""Owed reporting slots, which of them arrived, and what a source's status is as of a moment.

Arrivals come as one bit mask of local hours with events per (source, local day)
(``repository.hour_masks``); the owed slots come from each source's cadence
(``models.cadence``). Every count here is of slots, so received ≤ expected by construction:
a slot is counted as expected once it is due (its end plus the grace) or once it arrived,
and as received only if it is one of the owed slots.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.kit.buckets import LOCAL, Bucket
from models.cadence import ALL_HOURS, GRACE, Cadence, cadence_of
from models.sources import SourceSystem

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)
SILENT_AFTER_SLOTS = 3
"""Consecutive missed slots after which a late source is called silent."""
EVER = datetime(1900, 1, 1, tzinfo=LOCAL)
"""Observed since ever: every slot in range is owed."""
LOOKBACK = timedelta(days=35)
"""How far back status looks for the last report: past a Tết school break and three weeks."""
NEAR = timedelta(days=8)
"""Where status looks first: a week and a day, which holds the last slot of most sources."""

Masks = dict[tuple[str, dt.date], int]
"""(source, local day) → bit mask of the local hours in which events arrived."""


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    due_at: datetime
    arrived: bool


def local_midnight(day: dt.date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL)


def local_days(start: datetime, end: datetime) -> Iterator[dt.date]:
    """Local dates touching ``[start, end)``."""
    day, last = start.astimezone(LOCAL).date(), (end - TICK).astimezone(LOCAL).date()
    while day <= last:
        yield day
        day += DAY


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


@dataclass(frozen=True, slots=True)
class Owed:
    """One owed slot, before looking at what arrived: it is filled when any of ``hours``
    arrived on any of ``days`` (a week slot looks at seven days, an hour slot at one bit)."""

    start: datetime
    due_at: datetime
    days: tuple[dt.date, ...]
    hours: int


def owed_slots(source: SourceSystem, start: datetime, end: datetime) -> Iterator[Owed]:
    """The source's owed slots whose end lies in ``(start, end]``, in time order."""
    cadence = cadence_of(source)
    if cadence.slot == "week":
        monday = start.astimezone(LOCAL).date()
        monday -= timedelta(days=monday.weekday())
        while local_midnight(monday) < end + 7 * DAY:
            week = tuple(monday + timedelta(days=i) for i in range(7))
            due = local_midnight(monday) + 7 * DAY
            if start < due <= end and any(cadence.owed_on(source, d) for d in week):
                yield Owed(local_midnight(monday), due, week, ALL_HOURS)
            monday += 7 * DAY
        return
    for day in local_days(start - DAY, end + DAY):
        owed = cadence.owed_on(source, day)
        if not owed:
            continue
        midnight = local_midnight(day)
        if cadence.slot == "day":
            due = midnight + cadence.due_hour * HOUR
            if start < due <= end:
                yield Owed(midnight, due, (day,), ALL_HOURS)
            continue
        for hour in _bits(owed):
            slot_start = midnight + hour * HOUR
            if start < slot_start + HOUR <= end:
                yield Owed(slot_start, slot_start + HOUR, (day,), 1 << hour)


def _filled(owed: Owed, got: dict[dt.date, int]) -> bool:
    return any(got.get(day, 0) & owed.hours for day in owed.days)


def _by_source(masks: Masks) -> dict[str, dict[dt.date, int]]:
    out: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for (code, day), mask in masks.items():
        out[code][day] = mask
    return out


Closed = Sequence[tuple[datetime, datetime]]
"""A source's declared closures ``[start, end)`` (``models.closures``)."""


def _shut(source: SourceSystem, owed: Owed, closed: Closed) -> bool:
    """Does every reporting hour of the slot lie inside a closure? (A school closed for the
    day owes no attendance; a desk closed one day still owes its week.)"""
    near = [(a, b) for a, b in closed if a < owed.due_at and b > owed.start]
    if not near:
        return False
    cadence = cadence_of(source)
    for day in owed.days:
        midnight = local_midnight(day)
        for hour in _bits(cadence.owed_on(source, day) & owed.hours):
            begins = midnight + hour * HOUR
            if not any(a <= begins and begins + HOUR <= b for a, b in near):
                return False
    return True


def slots(
    source: SourceSystem,
    masks: Masks,
    start: datetime,
    end: datetime,
    closed: Closed = (),
    owed_then: Iterable[Owed] | None = None,
) -> Iterator[Slot]:
    """The source's owed slots whose end lies in ``(start, end]``, in time order, but those
    it was closed for (``owed_then``: those slots, when already worked out)."""
    code = source.code
    for owed in owed_slots(source, start, end) if owed_then is None else owed_then:
        if closed and _shut(source, owed, closed):
            continue
        filled = any(masks.get((code, day), 0) & owed.hours for day in owed.days)
        yield Slot(owed.start, owed.due_at, filled)


@dataclass(frozen=True, slots=True)
class Counted:
    """An owed slot as a tally counts it: in ``period``; once ``due`` (past its grace) even
    if nothing arrived. ``whole_day``: all the owed hours of a past day at once, counted by
    bits."""

    owed: Owed
    period: datetime
    due: bool
    whole_day: bool = False


def tally(
    sources: Iterable[SourceSystem],
    masks: Masks,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
    observed_from: Mapping[str, datetime | None] | None = None,
    closed: Mapping[str, Closed] | None = None,
) -> dict[str, dict[datetime, list[int]]]:
    """Per source and bucket (of each slot's end): [owed slots due or arrived, arrived].

    Sources that share a schedule (cadence, calendar, weekdays) owe the same slots, so the
    slots, their buckets and whether they are due are worked out once per schedule (about
    thirty for a province's thousand sources); each source then only looks its masks up.

    With ``observed_from``, a source owes only the slots that begin at or after its moment
    there (None or absent: none at all): a slot from before the data starts was never
    observed, so it cannot be missing. With ``closed``, a source owes nothing it was closed
    for (its declared closures)."""
    arrived_by_source = _by_source(masks)
    plans: dict[tuple[object, ...], list[Counted]] = {}
    out: dict[str, dict[datetime, list[int]]] = {}
    for source in sources:
        shut = closed.get(source.code, ()) if closed else ()
        if observed_from is not None or shut:
            since = observed_from.get(source.code) if observed_from is not None else EVER
            out[source.code] = _one_by_one(source, masks, bucket, start, end, now, since, shut)
            continue
        schedule = (cadence_of(source), source.calendar, source.reporting_weekdays)
        plan = plans.get(schedule)
        if plan is None:
            plan = plans[schedule] = counted_slots(source, bucket, start, end, now)
        got = arrived_by_source.get(source.code, {})
        per: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        for counted in plan:
            owed = counted.owed
            days = owed.days
            if len(days) == 1:
                mask = got.get(days[0], 0) & owed.hours
                if counted.whole_day:
                    acc = per[counted.period]
                    acc[0] += owed.hours.bit_count()
                    acc[1] += mask.bit_count()
                    continue
                arrived = mask != 0
            else:
                arrived = _filled(owed, got)
            if arrived or counted.due:
                acc = per[counted.period]
                acc[0] += 1
                acc[1] += arrived
        out[source.code] = per
    return out


def _one_by_one(
    source: SourceSystem,
    masks: Masks,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
    since: datetime | None,
    closed: Closed,
) -> dict[datetime, list[int]]:
    """One source's tally counting only the slots that begin once its data is observed
    (``since``; None: never observed, nothing owed) and that it was not closed for."""
    per: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    if since is None:
        return per
    # A day slot is observed once its reporting window is (a school's from 07:00, not midnight).
    opens = HOUR * source.reporting_hours[0] if cadence_of(source).slot == "day" else 0 * HOUR
    for slot in slots(source, masks, start, end, closed):
        if slot.start + opens >= since and (slot.arrived or slot.due_at + GRACE <= now):
            acc = per[bucket.floor(slot.due_at - TICK)]
            acc[0] += 1
            acc[1] += slot.arrived
    return per


def counted_slots(
    source: SourceSystem, bucket: Bucket, start: datetime, end: datetime, now: datetime
) -> list[Counted]:
    """The slots a tally counts for the sources of ``source``'s schedule."""
    cadence = cadence_of(source)
    if cadence.slot == "hour" and bucket is not Bucket.HOUR:
        return list(_whole_days(source, cadence, bucket, start, end, now))
    return [
        Counted(owed, bucket.floor(owed.due_at - TICK), owed.due_at + GRACE <= now)
        for owed in owed_slots(source, start, end)
    ]


def _whole_days(
    source: SourceSystem,
    cadence: Cadence,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
) -> Iterator[Counted]:
    """Hour slots a day at a time (bit counts), hour by hour only on edge and recent days:
    a year of an hourly feed is 365 steps, not 8,760."""
    for day in local_days(start, end):
        owed = cadence.owed_on(source, day)
        if not owed:
            continue
        midnight = local_midnight(day)
        if start <= midnight and midnight + DAY <= end and midnight + DAY + GRACE <= now:
            whole = Owed(midnight, midnight + DAY, (day,), owed)
            yield Counted(whole, bucket.floor(midnight), True, whole_day=True)
            continue
        for hour in _bits(owed):
            slot_end = midnight + (hour + 1) * HOUR
            if start < slot_end <= end:
                one = Owed(slot_end - HOUR, slot_end, (day,), 1 << hour)
                yield Counted(one, bucket.floor(slot_end - TICK), slot_end + GRACE <= now)


_NEAR_KEPT: dict[tuple[object, ...], tuple[Owed, ...]] = {}


def _owed_near(source: SourceSystem, start: datetime, end: datetime) -> tuple[Owed, ...]:
    """:func:`owed_slots` of the few weeks status looks at, worked out once per schedule
    and range (the thousand sources of ``/sources`` share about thirty schedules)."""
    key = (cadence_of(source), source.calendar, source.reporting_weekdays, start, end)
    kept = _NEAR_KEPT.get(key)
    if kept is None:
        if len(_NEAR_KEPT) >= 256:
            _NEAR_KEPT.clear()
        kept = _NEAR_KEPT[key] = tuple(owed_slots(source, start, end))
    return kept


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a source stands against its cadence at a moment."""

    status: str
    missed_slots: int
    """Owed slots missed in a row, up to the silent mark."""
    overdue_since: datetime | None
    """When the oldest of those missed slots was due."""
    next_due_at: datetime | None
    """When the next report it owes is due (one not yet arrived)."""


def standing(
    source: SourceSystem,
    masks: Masks,
    as_of: datetime,
    since: datetime | None = None,
    closed: Closed = (),
) -> Standing:
    """fresh: its last due slot arrived; late: 1–2 owed slots overdue in a row (past the
    grace); silent: :data:`SILENT_AFTER_SLOTS` or more. A desk closed at night or on a
    holiday owes nothing then, so it is not late; nor are slots that began before
    ``since`` (where its stream's stored data starts: they were never observed), nor slots
    it was ``closed`` for; while a closure holds, it is *closed*."""
    opens = HOUR * source.reporting_hours[0] if cadence_of(source).slot == "day" else 0 * HOUR
    # The last week first: its last slot usually arrived. Only a source that missed every
    # slot of it, fewer than the silent mark, needs the whole look-back.
    for back in (NEAR, LOOKBACK):
        due = _owed_near(source, as_of - back, as_of + 8 * DAY)
        owed = [
            s
            for s in slots(source, masks, as_of - back, as_of + 8 * DAY, closed, due)
            if since is None or s.start + opens >= since
        ]
        past = [s for s in owed if s.due_at + GRACE <= as_of]
        missed, overdue = 0, None
        for slot in reversed(past):
            if slot.arrived or missed >= SILENT_AFTER_SLOTS:
                break
            missed, overdue = missed + 1, slot.due_at
        if missed < len(past) or missed >= SILENT_AFTER_SLOTS:
            break
    upcoming = (s.due_at for s in owed if s.due_at + GRACE > as_of and not s.arrived)
    status = "fresh" if missed == 0 else "late" if missed < SILENT_AFTER_SLOTS else "silent"
    if any(a <= as_of < b for a, b in closed):
        status = "closed"
    return Standing(status, missed, overdue, next(upcoming, None))

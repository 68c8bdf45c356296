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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.kit.buckets import LOCAL, Bucket
from models.cadence import GRACE, Cadence, cadence_of
from models.sources import SourceSystem

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)
SILENT_AFTER_SLOTS = 3
"""Consecutive missed slots after which a late source is called silent."""
LOOKBACK = timedelta(days=35)
"""How far back status looks for the last report: past a Tết school break and three weeks."""

Masks = dict[tuple[str, dt.date], int]
"""(source, local day) → bit mask of the local hours in which events arrived."""


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    due_at: datetime
    arrived: bool


def _midnight(day: dt.date) -> datetime:
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


def slots(source: SourceSystem, masks: Masks, start: datetime, end: datetime) -> Iterator[Slot]:
    """The source's owed slots whose end lies in ``(start, end]``, in time order."""
    cadence = cadence_of(source)
    code = source.code
    if cadence.slot == "week":
        monday = start.astimezone(LOCAL).date()
        monday -= timedelta(days=monday.weekday())
        while _midnight(monday) < end + 7 * DAY:
            week = [monday + timedelta(days=i) for i in range(7)]
            due = _midnight(monday) + 7 * DAY
            if start < due <= end and any(cadence.owed_on(source, d) for d in week):
                filled = any(masks.get((code, d)) for d in week)
                yield Slot(_midnight(monday), due, filled)
            monday += 7 * DAY
        return
    for day in local_days(start - DAY, end + DAY):
        owed = cadence.owed_on(source, day)
        if not owed:
            continue
        midnight, got = _midnight(day), int(masks.get((code, day), 0))
        if cadence.slot == "day":
            due = midnight + cadence.due_hour * HOUR
            if start < due <= end:
                yield Slot(midnight, due, got != 0)
            continue
        for hour in _bits(owed):
            slot_start = midnight + hour * HOUR
            if start < slot_start + HOUR <= end:
                yield Slot(slot_start, slot_start + HOUR, bool(got >> hour & 1))


def tally(
    sources: Iterable[SourceSystem],
    masks: Masks,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, dict[datetime, list[int]]]:
    """Per source and bucket (of each slot's end): [owed slots due or arrived, arrived]."""
    out: dict[str, dict[datetime, list[int]]] = {}
    for source in sources:
        per: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        cadence = cadence_of(source)
        if cadence.slot == "hour" and bucket is not Bucket.HOUR:
            _whole_days(source, cadence, masks, bucket, start, end, now, per)
        else:
            for slot in slots(source, masks, start, end):
                if slot.arrived or slot.due_at + GRACE <= now:
                    acc = per[bucket.floor(slot.due_at - TICK)]
                    acc[0] += 1
                    acc[1] += slot.arrived
        out[source.code] = per
    return out


def _whole_days(
    source: SourceSystem,
    cadence: Cadence,
    masks: Masks,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    now: datetime,
    per: dict[datetime, list[int]],
) -> None:
    """Hour slots a day at a time (bit counts), hour by hour only on edge and recent days:
    a year of an hourly feed is 365 steps, not 8,760."""
    for day in local_days(start, end):
        owed = cadence.owed_on(source, day)
        if not owed:
            continue
        midnight = _midnight(day)
        got = masks.get((source.code, day), 0)
        if start <= midnight and midnight + DAY <= end and midnight + DAY + GRACE <= now:
            acc = per[bucket.floor(midnight)]
            acc[0] += owed.bit_count()
            acc[1] += (owed & got).bit_count()
            continue
        for hour in _bits(owed):
            slot_end = midnight + (hour + 1) * HOUR
            if not start < slot_end <= end:
                continue
            arrived = bool(got >> hour & 1)
            if arrived or slot_end + GRACE <= now:
                acc = per[bucket.floor(slot_end - TICK)]
                acc[0] += 1
                acc[1] += arrived


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


def standing(source: SourceSystem, masks: Masks, as_of: datetime) -> Standing:
    """fresh: its last due slot arrived; late: 1–2 owed slots overdue in a row (past the
    grace); silent: :data:`SILENT_AFTER_SLOTS` or more. A desk closed at night or on a
    holiday owes nothing then, so it is not late."""
    owed = list(slots(source, masks, as_of - LOOKBACK, as_of + 8 * DAY))
    past = [s for s in owed if s.due_at + GRACE <= as_of]
    missed, since = 0, None
    for slot in reversed(past):
        if slot.arrived or missed >= SILENT_AFTER_SLOTS:
            break
        missed, since = missed + 1, slot.due_at
    upcoming = (s.due_at for s in owed if s.due_at + GRACE > as_of and not s.arrived)
    status = "fresh" if missed == 0 else "late" if missed < SILENT_AFTER_SLOTS else "silent"
    return Standing(status, missed, since, next(upcoming, None))

"""Each source's reporting cadence: which slots (hours, days or weeks) it owes a report in.

Completeness is the share of owed slots in which something arrived, so it cannot pass
100 %; a source is late when an owed slot ended (plus a grace) with nothing from it. A slot
is only owed where silence means something:

- ``hour``: the hours of its reporting days in which it always sends (a hospital's hourly
  bed census), or, for an ``auto`` source, those in which it expects at least
  :data:`MIN_EVENTS_PER_SLOT` events even in its low season (a clinic's morning, not its
  night);
- ``day``: its reporting days (a school's morning attendance), or, for ``auto``, the
  weekdays on which it expects that many events in the day (a district's one-stop desk);
- ``week``: a source too small to be judged by the day (a mountain commune's desk) that
  expects that many events in a week: any event in the week fills it;
- ``none``: what is left, a source too small even for a week (a scaled-down feed's smallest
  desks): it owes no slot, since an empty week would be chance, not a fault.

A slot counts in the period holding its end (a school's day in the hour before 11:00, its
deadline), once due or once filled: a period still under way counts what is due so far.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Literal

from models.sources import SourceSystem

MIN_EVENTS_PER_SLOT = 5.0
"""Expected events that make an empty slot a fault, not chance (Poisson: e⁻⁵ < 0.7 %)."""
GRACE = dt.timedelta(minutes=30)
"""How long after a slot's end its report may still be on its way before it is overdue."""
ALL_HOURS = (1 << 24) - 1

SlotKind = Literal["hour", "day", "week", "none"]


@dataclass(frozen=True, slots=True)
class Cadence:
    slot: SlotKind
    owed_hours: tuple[int, ...]
    """Per weekday (Monday first), a bit mask of local hours: for ``hour`` the owed hours;
    for ``day`` / ``week`` the reporting hours of an owed day (0: not owed that weekday)."""
    due_hour: int
    """Local hour (1–24) by which a ``day`` slot's report is due: its reporting window's end."""

    def owed_on(self, source: SourceSystem, day: dt.date) -> int:
        """The owed-hours mask of ``day`` (0 when it owes nothing that day)."""
        mask = self.owed_hours[day.weekday()]
        return mask if mask and source.reports_on(day) else 0


def _expected(source: SourceSystem, weekday: int, hour: int) -> float:
    """Events expected in one local hour of a weekday, in the source's low season."""
    first, last = source.reporting_hours
    if weekday not in source.reporting_weekdays or not first <= hour < last:
        return 0.0
    weight = source.hour_weight(hour) * source.day_weight(weekday)
    return source.expected_per_hour * weight * source.season_low


def _bits(hours: range | list[int]) -> int:
    return sum(1 << h for h in hours)


@cache
def cadence_of(source: SourceSystem) -> Cadence:
    """The slots a source owes, from its declared cadence or its expected volume."""
    first, last = source.reporting_hours
    window = _bits(range(first, last))
    days = range(7)
    on = [window if d in source.reporting_weekdays else 0 for d in days]
    if source.cadence == "hour":
        return Cadence("hour", tuple(on), last)
    if source.cadence == "day":
        return Cadence("day", tuple(on), last)
    hourly = [
        _bits([h for h in range(24) if _expected(source, d, h) >= MIN_EVENTS_PER_SLOT])
        for d in days
    ]
    if any(hourly):
        return Cadence("hour", tuple(hourly), last)
    daily = [
        on[d] if sum(_expected(source, d, h) for h in range(24)) >= MIN_EVENTS_PER_SLOT else 0
        for d in days
    ]
    if any(daily):
        return Cadence("day", tuple(daily), last)
    weekly = sum(_expected(source, d, h) for d in days for h in range(24))
    if weekly >= MIN_EVENTS_PER_SLOT:
        return Cadence("week", tuple(on), last)
    return Cadence("none", (0,) * 7, last)

"""Calendar and place effects shared by the streams: when offices and schools are open, and
how the seasons of the central coast move the volumes.

- Offices (one-stop desks) work on working days (``models.calendar``: weekends, public
  holidays and the official Tết break are off).
- Schools follow ``models.calendar.is_school_day``: the school year runs from early
  September to the end of May; the pupils' Tết break is about two weeks around mùng 1.
- Rain and floods: the central coast's rainy season is September–December; dengue (ICD-10
  A90) peaks in October–November and is lowest in spring (Quảng Nam's surveillance reports
  show the same shape), emergencies rise with the floods of October–November.
- Tourism: Hội An's high season is roughly February–August; the flood months are the low
  season; Tết and weekends bring domestic visitors.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from models.calendar import is_working_day, tet

# Relative dengue incidence by month (1 = the yearly mean), central-coast shape.
DENGUE_BY_MONTH = (0.7, 0.4, 0.25, 0.2, 0.3, 0.55, 0.8, 1.1, 1.6, 2.4, 2.3, 1.5)
# Emergency visits by month: floods and storms in October–November.
EMERGENCY_BY_MONTH = (1.0, 1.05, 0.95, 0.95, 0.95, 0.95, 1.0, 1.0, 1.1, 1.3, 1.3, 1.1)
# Tourist arrivals by month relative to the year's mean (Hội An high season Feb–Aug).
TOURISM_BY_MONTH = (0.85, 1.15, 1.2, 1.2, 1.1, 1.2, 1.3, 1.25, 0.8, 0.6, 0.55, 0.8)
# School attendance rate by month: lower in the flood months, and in the mountains.
ATTENDANCE_BY_MONTH = (0.96, 0.95, 0.965, 0.965, 0.96, 1, 1, 1, 0.97, 0.93, 0.935, 0.955)


@cache
def is_office_day(day: dt.date) -> bool:
    return is_working_day(day)


def tet_holiday_factor(day: dt.date) -> float:
    """Domestic tourism during the Tết week and its spring-outing tail (du xuân)."""
    delta = (day - tet(day.year)).days
    if -1 <= delta <= 6:
        return 1.5
    if -7 <= delta < -1:
        return 0.6  # the days before Tết people stay home and prepare
    return 1.0

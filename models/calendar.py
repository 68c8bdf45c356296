"""Vietnam's working calendar: public holidays, Tết from the lunar calendar, working-day arithmetic.

Deadlines of public-service dossiers and citizen requests are counted in working days
(Monday–Friday, public holidays and the Tết break excluded), so every stage that judges
"on time" uses the functions here. Public holidays, including the official Tết break and
the substitute days the government announces each year, come from the ``holidays``
package (its ``Vietnam`` calendar). Tết itself is also *computed* here with Hồ Ngọc Đức's
astronomical algorithm for the Vietnamese lunar calendar (new moons and solar terms at
UTC+7, after Meeus), so the simulators know the lunar new year for any year, and a test
checks it against the package's tables.

Working-day convention: ``add_working_days(d, n)`` is the date ``n`` working days after
``d``, ``d`` itself not counted (received on a Friday with 1 working day → due Monday);
``working_days_between(a, b)`` counts the working days in ``(a, b]``, so
``working_days_between(d, add_working_days(d, n)) == n``. Swapped working Saturdays are
not modelled: offices here never work on a weekend.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache

import holidays
import numpy as np

FIRST_YEAR, LAST_YEAR = 1990, 2080
"""Years the working calendar covers; dates outside it raise ``ValueError``."""
UTC_OFFSET_HOURS = 7
_JD_ORDINAL = 1_721_425  # Julian day number of proleptic-Gregorian ordinal 0
_SYNODIC_MONTH = 29.530588853
_JD_1900_NEW_MOON = 2_415_021.076998695


@cache
def public_holidays() -> dict[dt.date, str]:
    """Every public holiday (day off for offices and schools) in ``FIRST_YEAR..LAST_YEAR``."""
    return dict(holidays.country_holidays("VN", years=range(FIRST_YEAR, LAST_YEAR + 1)))


@cache
def business_calendar() -> np.busdaycalendar:
    """The numpy working-day calendar, for vectorised deadline arithmetic."""
    days = np.array(sorted(public_holidays()), dtype="datetime64[D]")
    return np.busdaycalendar(weekmask="1111100", holidays=days)


def _check(day: dt.date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{day} is outside the calendar ({FIRST_YEAR}–{LAST_YEAR})")


def is_working_day(day: dt.date) -> bool:
    """Monday–Friday and not a public holiday."""
    _check(day)
    return day.weekday() < 5 and day not in public_holidays()


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The date ``n`` (≥ 0) working days after ``day``; ``n == 0`` gives ``day`` itself."""
    if n < 0:
        raise ValueError("n must be >= 0")
    _check(day)
    if n == 0:
        return day
    out = np.busday_offset(
        np.datetime64(day, "D"), n, roll="backward", busdaycal=business_calendar()
    )
    result: dt.date = out.astype(dt.date)
    _check(result)
    return result


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
    _check(start)
    _check(end)
    one = dt.timedelta(days=1)
    return int(
        np.busday_count(
            np.datetime64(start + one, "D"),
            np.datetime64(end + one, "D"),
            busdaycal=business_calendar(),
        )
    )


def add_working_days_array(days: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Vectorised :func:`add_working_days` over ``datetime64[D]`` days (simulators)."""
    return np.busday_offset(days, n, roll="backward", busdaycal=business_calendar())


# --- Tết: the Vietnamese lunar calendar (Hồ Ngọc Đức's algorithm) -------------------------


def _new_moon(k: int) -> float:
    """Julian day (UT) of the k-th new moon after the one of 1900-01-01 (Meeus, ch. 49)."""
    t = k / 1236.85
    t2, t3 = t * t, t * t * t
    dr = math.pi / 180
    jd = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = (359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3) * dr
    mpr = (306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3) * dr
    f = (21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3) * dr
    c1 = (
        (0.1734 - 0.000393 * t) * math.sin(m)
        + 0.0021 * math.sin(2 * m)
        - 0.4068 * math.sin(mpr)
        + 0.0161 * math.sin(2 * mpr)
        - 0.0004 * math.sin(3 * mpr)
        + 0.0104 * math.sin(2 * f)
        - 0.0051 * math.sin(m + mpr)
        - 0.0074 * math.sin(m - mpr)
        + 0.0004 * math.sin(2 * f + m)
        - 0.0004 * math.sin(2 * f - m)
        - 0.0006 * math.sin(2 * f + mpr)
        + 0.0010 * math.sin(2 * f - mpr)
        + 0.0005 * math.sin(2 * mpr + m)
    )
    if t < -11:
        delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd + c1 - delta_t


def _new_moon_day(k: int) -> int:
    """Local (UTC+7) Julian day number on which the k-th new moon falls."""
    return math.floor(_new_moon(k) + 0.5 + UTC_OFFSET_HOURS / 24)


def _sun_longitude_sector(jdn: int) -> int:
    """Which 30° sector (0–11) of ecliptic longitude the sun is in at local midnight."""
    t = (jdn - 0.5 - UTC_OFFSET_HOURS / 24 - 2451545.0) / 36525
    t2 = t * t
    dr = math.pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(dr * m)
    dl += (0.019993 - 0.000101 * t) * math.sin(dr * 2 * m) + 0.000290 * math.sin(dr * 3 * m)
    longitude = ((l0 + dl) * dr) % (2 * math.pi)
    return math.floor(longitude / math.pi * 6)


def _month_11_start(year: int) -> int:
    """Julian day of the start of lunar month 11 (the one holding the winter solstice)."""
    k = math.floor((dt.date(year, 12, 31).toordinal() + _JD_ORDINAL - 2415021) / _SYNODIC_MONTH)
    start = _new_moon_day(k)
    return _new_moon_day(k - 1) if _sun_longitude_sector(start) >= 9 else start


def _leap_month_offset(month_11: int) -> int:
    """Months after month 11 until the first without a major solar term (the leap month)."""
    k = math.floor((month_11 - _JD_1900_NEW_MOON) / _SYNODIC_MONTH + 0.5)
    i = 1
    arc = _sun_longitude_sector(_new_moon_day(k + i))
    while True:
        last = arc
        i += 1
        arc = _sun_longitude_sector(_new_moon_day(k + i))
        if arc == last or i >= 14:
            return i - 1


@cache
def tet(year: int) -> dt.date:
    """Mùng 1 Tết: the first day of the first lunar month of ``year`` (Vietnamese calendar)."""
    a11, b11 = _month_11_start(year - 1), _month_11_start(year)
    k = math.floor(0.5 + (a11 - _JD_1900_NEW_MOON) / _SYNODIC_MONTH)
    offset = 2  # month 1 is two lunations after month 11 …
    if b11 - a11 > 365 and offset >= _leap_month_offset(a11):
        offset += 1  # … three when a leap month 11 or 12 comes between
    return dt.date.fromordinal(_new_moon_day(k + offset) - _JD_ORDINAL)


def tet_break(year: int, before: int = 3, after: int = 4) -> tuple[dt.date, dt.date]:
    """The days offices close around Tết, inclusive: the official break is about a week."""
    day = tet(year)
    return day - dt.timedelta(days=before), day + dt.timedelta(days=after)


SCHOOL_OPENING = (9, 5)
SCHOOL_CLOSING = (5, 31)
SCHOOL_TET_BEFORE, SCHOOL_TET_AFTER = 6, 8
"""The school year runs from opening day (5 September) to the end of May; the pupils' Tết
break is longer than the civil-service one (about two weeks around mùng 1)."""


def in_tet_school_break(day: dt.date) -> bool:
    first = tet(day.year)
    return (
        first - dt.timedelta(days=SCHOOL_TET_BEFORE)
        <= day
        <= first + dt.timedelta(days=SCHOOL_TET_AFTER)
    )


@cache
def is_school_day(day: dt.date) -> bool:
    """A day on which schools take attendance: term time, a working day, not the Tết break."""
    month_day = (day.month, day.day)
    in_term = month_day >= SCHOOL_OPENING or month_day <= SCHOOL_CLOSING
    return in_term and is_working_day(day) and not in_tet_school_break(day)

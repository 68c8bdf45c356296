"""The working calendar: computed Tết, public holidays and working-day arithmetic."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from models.calendar import (
    add_working_days,
    is_working_day,
    tet,
    tet_break,
    working_days_between,
)


def test_computed_tet_matches_the_published_vietnamese_calendar() -> None:
    for year in range(1990, 2081):
        published = [
            d for d, name in holidays.Vietnam(years=year).items() if name == "Lunar New Year"
        ]
        assert published == [tet(year)], year
    # 1985 is where the Vietnamese (UTC+7) and Chinese (UTC+8) calendars part: a month apart.
    assert tet(1985) == dt.date(1985, 1, 21)
    assert (tet(2025), tet(2026)) == (dt.date(2025, 1, 29), dt.date(2026, 2, 17))


def test_tet_break_is_about_a_week_and_closes_offices() -> None:
    first, last = tet_break(2025)
    assert (last - first).days + 1 == 8
    assert not any(is_working_day(tet(2025) + dt.timedelta(days=d)) for d in range(-2, 4))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2025, 3, 7), True),  # a Friday
        (dt.date(2025, 3, 8), False),  # Saturday
        (dt.date(2025, 4, 30), False),  # Reunification Day
        (dt.date(2025, 9, 2), False),  # National Day
        (dt.date(2025, 4, 7), False),  # Hùng Kings (10th of the 3rd lunar month)
        (dt.date(2025, 4, 8), True),
    ],
)
def test_is_working_day(day: dt.date, working: bool) -> None:
    assert is_working_day(day) is working


def test_add_working_days_skips_weekends_and_tet() -> None:
    assert add_working_days(dt.date(2025, 3, 7), 1) == dt.date(2025, 3, 10)  # Fri → Mon
    assert add_working_days(dt.date(2025, 3, 8), 1) == dt.date(2025, 3, 10)  # Sat → Mon
    assert add_working_days(dt.date(2025, 3, 10), 0) == dt.date(2025, 3, 10)
    # Received the Friday before Tết 2025 with 3 working days: the break (27 Jan–2 Feb) is skipped.
    assert add_working_days(dt.date(2025, 1, 24), 3) == dt.date(2025, 2, 5)
    with pytest.raises(ValueError, match="n must be"):
        add_working_days(dt.date(2025, 1, 1), -1)
    with pytest.raises(ValueError, match="outside the calendar"):
        is_working_day(dt.date(1800, 1, 1))


def test_working_days_between_inverts_add_working_days() -> None:
    start = dt.date(2024, 12, 20)
    for n in range(0, 60, 7):
        assert working_days_between(start, add_working_days(start, n)) == n
    assert working_days_between(dt.date(2025, 3, 10), dt.date(2025, 3, 3)) == -5
    assert working_days_between(dt.date(2025, 3, 7), dt.date(2025, 3, 9)) == 0

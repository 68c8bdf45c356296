"""Reporting cadences, owed slots and source status, without a database."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.kit.buckets import LOCAL, Bucket
from app.sources.slots import Masks, slots, standing, tally
from models.cadence import cadence_of
from models.sources import sources_by_code, sources_of

SOURCES = sources_by_code()
HIS = SOURCES["his/TTYT-502"]
SCHOOL = next(s for s in sources_of("education") if s.kind == "primary")
DESKS = sorted(sources_of("public_service", "commune_desk"), key=lambda s: s.expected_per_hour)
SMALL_DESK, BIG_DESK = DESKS[0], DESKS[-1]
ALL_DAY = (1 << 24) - 1


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)  # type: ignore[misc]


def days(first: dt.date, n: int) -> list[dt.date]:
    return [first + timedelta(days=i) for i in range(n)]


def test_cadences_follow_what_each_source_sends() -> None:
    assert cadence_of(HIS).slot == "hour"  # the bed census, every hour
    assert cadence_of(HIS).owed_hours == (ALL_DAY,) * 7
    assert cadence_of(SCHOOL).slot == "day" and cadence_of(SCHOOL).due_hour == 11
    assert cadence_of(BIG_DESK).slot == "day"
    assert cadence_of(SMALL_DESK).slot == "week"  # a handful of dossiers a week
    bhyt = cadence_of(SOURCES["bhyt/TTYT-502"])
    assert bhyt.slot == "hour" and not bhyt.owed_hours[0] >> 2 & 1  # no claims owed at 02:00


def test_a_desk_closed_at_night_or_on_a_holiday_is_not_late() -> None:
    desk = BIG_DESK
    # It sent every day of August; 30 August – 2 September 2025 is the National Day break.
    masks: Masks = {(desk.code, d): 1 << 9 for d in days(dt.date(2025, 8, 1), 29)}
    night = standing(desk, masks, local(2025, 8, 29, 23))
    assert night.status == "fresh" and night.missed_slots == 0
    holiday = standing(desk, masks, local(2025, 9, 2, 20))
    assert holiday.status == "fresh"
    assert holiday.next_due_at == local(2025, 9, 3, 17)  # Wednesday, end of office hours
    # Wednesday passes with nothing: late once its office day is over plus the grace.
    assert standing(desk, masks, local(2025, 9, 3, 17, 20)).status == "fresh"
    late = standing(desk, masks, local(2025, 9, 3, 17, 31))
    assert (late.status, late.missed_slots) == ("late", 1)
    assert late.overdue_since == local(2025, 9, 3, 17)
    assert standing(desk, masks, local(2025, 9, 8, 18)).status == "silent"  # Wed, Thu, Fri


def test_a_school_is_due_by_eleven_on_school_days_only() -> None:
    monday = dt.date(2025, 10, 13)
    masks: Masks = {(SCHOOL.code, d): 1 << 8 for d in days(monday, 4)}  # Mon–Thu
    assert standing(SCHOOL, masks, local(2025, 10, 17, 11, 15)).status == "fresh"
    assert standing(SCHOOL, masks, local(2025, 10, 17, 11, 45)).status == "late"
    # The weekend owes nothing: still one slot late on Sunday evening.
    assert standing(SCHOOL, masks, local(2025, 10, 19, 22)).missed_slots == 1
    # In the summer holidays a school owes nothing at all.
    summer = list(slots(SCHOOL, {}, local(2025, 6, 10), local(2025, 8, 20)))
    assert summer == []


@settings(max_examples=60, deadline=None)
@given(
    arrived=st.lists(st.integers(0, ALL_DAY), min_size=14, max_size=14),
    start_hour=st.integers(0, 23),
    length_hours=st.integers(1, 14 * 24),
    now_hours=st.integers(0, 16 * 24),
    bucket=st.sampled_from(list(Bucket)),
)
def test_arrived_slots_never_exceed_owed_ones(
    arrived: list[int], start_hour: int, length_hours: int, now_hours: int, bucket: Bucket
) -> None:
    """Completeness ≤ 100 % for every kind of source, bucket, edge and moment of asking."""
    first = dt.date(2025, 1, 20)  # Tết 2025 (29 January) inside the fortnight
    picked = [HIS, SCHOOL, SMALL_DESK, BIG_DESK, SOURCES["bhyt/TTYT-503"], SOURCES[
        "lodging/NAMTRAMY"]]  # fmt: skip
    masks: Masks = {
        (s.code, d): mask for s in picked for d, mask in zip(days(first, 14), arrived, strict=True)
    }
    start = local(2025, 1, 20) + timedelta(hours=start_hour)
    end = start + timedelta(hours=length_hours)
    now = local(2025, 1, 20) + timedelta(hours=now_hours)
    counted = tally(picked, masks, bucket, start, end, now)
    for source in picked:
        by_slot = tally([source], masks, Bucket.HOUR, start, end, now)[source.code]
        for owed, got in counted[source.code].values():
            assert 0 <= got <= owed
        # Any bucket's totals are the hour buckets' totals: slots are counted once.
        totals = [sum(c[i] for c in counted[source.code].values()) for i in (0, 1)]
        assert totals == [sum(c[i] for c in by_slot.values()) for i in (0, 1)]


def test_a_slot_counts_once_due_or_once_arrived() -> None:
    day = dt.date(2025, 10, 14)
    masks: Masks = {(HIS.code, day): 0b111}  # 00:00–03:00 arrived
    now = local(2025, 10, 14, 5, 10).astimezone(UTC)
    got = tally([HIS], masks, Bucket.DAY, local(2025, 10, 14), local(2025, 10, 15), now)
    # 00–04 due (04:00–05:00 ends 05:00, within the grace at 05:10): 4 slots, 3 arrived.
    assert dict(got[HIS.code]) == {local(2025, 10, 14): [4, 3]}

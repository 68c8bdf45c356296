"""Properties that hold for any data, checked on generated examples (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.indicators.service import period_covered
from app.kit.buckets import Bucket
from app.kit.disclosure import SMALL_COUNT, Cell, withheld

counts = st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12)


@given(st.lists(counts, min_size=1, max_size=6))
def test_no_withheld_count_can_be_recovered_from_its_parent(groups: list[list[int]]) -> None:
    cells = [Cell((g, i), g, (n,)) for g, group in enumerate(groups) for i, n in enumerate(group)]
    hidden = withheld(cells)
    for g, group in enumerate(groups):
        mine = [(g, i) for i, n in enumerate(group) if (g, i) in hidden]
        # every small count is withheld ...
        assert all((g, i) in hidden for i, n in enumerate(group) if 0 < n < SMALL_COUNT)
        # ... and never alone while the parent's total minus the visible ones would give it
        if len(mine) == 1:
            assert not any(n > 0 for i, n in enumerate(group) if (g, i) not in hidden)


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@settings(deadline=None)
@given(moments, st.integers(min_value=1, max_value=24 * 90), moments, st.sampled_from(list(Bucket)))
def test_a_period_is_whole_only_when_inside_the_window_and_over(
    start: datetime, hours: int, now: datetime, bucket: Bucket
) -> None:
    end = start + timedelta(hours=hours, minutes=start.minute % 7)
    for p_start, p_end in bucket.periods(start, end):
        covered = period_covered(bucket, p_start, start, end, now)
        assert 0 <= covered <= 1
        whole = start <= p_start and p_end <= end and p_end <= now
        assert (covered == 1) == whole, (p_start, p_end, covered)

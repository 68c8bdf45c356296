"""``Bucket.settled`` says what ``periods`` would, without listing the periods: a request's
answer is kept only when it is settled, so a wrong ``True`` would serve a moving answer; it
also waits out the grace a last slot's report has (completeness's owed slots move until
then). ``Bucket.last_end``, what a kept answer reads up to, is the last period's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.kit.buckets import LOCAL, Bucket
from models.cadence import GRACE

MOMENTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)


@settings(deadline=None)  # listing an hourly year of periods is the slow side, not the product
@given(bucket=st.sampled_from(list(Bucket)), start=MOMENTS,
       length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=120)),
       now=MOMENTS)  # fmt: skip
def test_settled_is_the_last_period_over(
    bucket: Bucket, start: datetime, length: timedelta, now: datetime
) -> None:
    end = start + length
    periods = bucket.periods(start, end)
    assert bucket.last_end(start, end) == periods[-1][1]
    assert bucket.settled(start, end, now) is (periods[-1][1] + GRACE <= now)


def test_settled_at_the_edges() -> None:
    jan, feb = datetime(2025, 1, 1, tzinfo=LOCAL), datetime(2025, 2, 1, tzinfo=LOCAL)
    assert Bucket.MONTH.settled(jan, feb, feb + GRACE)
    assert not Bucket.MONTH.settled(jan, feb, feb + GRACE - timedelta(microseconds=1))
    # A range ending one instant into February asks for February too.
    assert not Bucket.MONTH.settled(jan, feb + timedelta(microseconds=1), feb + GRACE)
    assert Bucket.MONTH.last_end(jan, jan + timedelta(days=9)) == feb
    assert Bucket.DAY.settled(jan, jan, jan)  # nothing asked: nothing moves

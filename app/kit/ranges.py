"""Time-range query parameters shared by every route that takes ``from`` / ``to``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query

from app.kit.buckets import LOCAL
from app.kit.errors import InvalidRequest
from app.resources import NowDep

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: datetime
    end: datetime

    def check(self, longest: timedelta, what: str) -> TimeRange:
        if self.end - self.start > longest:
            raise InvalidRequest(
                f"Range of {(self.end - self.start).days} days is too long for {what}; "
                f"at most {longest // timedelta(days=1)} days."
            )
        return self


def aware(moment: datetime) -> datetime:
    """Naive datetimes are read as Asia/Ho_Chi_Minh time, the province's clock."""
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)


def within_bounds(name: str, moment: datetime) -> datetime:
    """``moment`` if it lies in 2000–2100, else a 422 (beyond, date arithmetic overflows)."""
    if not EARLIEST <= moment <= LATEST:
        raise InvalidRequest(f"'{name}' ({moment.isoformat()}) must be between 2000 and 2100.")
    return moment


async def time_range(
    now: NowDep,
    from_: Annotated[
        datetime | None,
        Query(
            alias="from",
            description="Start (inclusive); naive = local time. Default: 7 days before 'to'.",
            examples=["2025-06-01T00:00:00+07:00"],
        ),
    ] = None,
    to: Annotated[
        datetime | None,
        Query(description="End (exclusive); default: now.", examples=["2025-06-08T00:00:00+07:00"]),
    ] = None,
) -> TimeRange:
    end = aware(to) if to else now
    start = aware(from_) if from_ else end - timedelta(days=7)
    for name, moment in (("from", start), ("to", end)):
        within_bounds(name, moment)
    if end <= start:
        raise InvalidRequest(
            f"'to' ({end.isoformat()}) must be after 'from' ({start.isoformat()})."
        )
    return TimeRange(start, end)


RangeDep = Annotated[TimeRange, Depends(time_range)]

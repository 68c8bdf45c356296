"""Time buckets: one enum that knows its own SQL and Python, in the province's local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy.sql.elements import ColumnClause

from models.cadence import GRACE
from models.clock import LOCAL, LOCAL_TZ

__all__ = ["LOCAL", "LOCAL_TZ", "Bucket"]


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    def start_of(
        self, column: ColumnElement[object] | ColumnClause[object]
    ) -> ColumnElement[object]:
        """``column`` truncated to this bucket in local time, returned as an instant."""
        return func.date_trunc(self.value, column, literal_column(f"'{LOCAL_TZ}'"))

    def floor(self, moment: datetime) -> datetime:
        """Python twin of :meth:`start_of`: the local bucket start of an aware instant."""
        local = moment.astimezone(LOCAL).replace(minute=0, second=0, microsecond=0)
        if self is Bucket.HOUR:
            return local
        day = local.replace(hour=0)
        if self is Bucket.DAY:
            return day
        if self is Bucket.WEEK:
            return day - timedelta(days=day.weekday())
        if self is Bucket.MONTH:
            return day.replace(day=1)
        if self is Bucket.QUARTER:
            return day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
        return day.replace(day=1, month=1)

    def settled(self, start: datetime, end: datetime, now: datetime) -> bool:
        """Every bucket overlapping ``[start, end)`` is over at ``now``, and so is the grace
        a report of its last slot has to arrive (``models.cadence.GRACE``: until then,
        completeness's owed slots still move with the clock), without listing them: asked
        on every request."""
        if end <= start:
            return True
        return self.last_end(start, end) + GRACE <= now

    def last_end(self, start: datetime, end: datetime) -> datetime:
        """The end of the last bucket overlapping ``[start, end)`` (of :meth:`periods`):
        what an answer about the range reads up to (open dossiers at the last bucket's
        end), whatever ``end`` itself is."""
        if end <= start:
            return end
        return self.next_start(self.floor(end - timedelta(microseconds=1)))

    def periods(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """``[start, end)`` of every bucket overlapping ``[start, end)``, in local time."""
        out = []
        cursor = self.floor(start)
        while cursor < end:
            nxt = self.next_start(cursor)
            out.append((cursor, nxt))
            cursor = nxt
        return out

    def next_start(self, bucket_start: datetime) -> datetime:
        """The start of the bucket after the one starting at ``bucket_start``."""
        step = {Bucket.HOUR: timedelta(hours=1), Bucket.DAY: timedelta(days=1),
                Bucket.WEEK: timedelta(days=7), Bucket.MONTH: timedelta(days=32),
                Bucket.QUARTER: timedelta(days=100)}.get(self, timedelta(days=370))  # fmt: skip
        # Local wall-clock arithmetic, then floor: right across month lengths. Each step
        # lands inside the next bucket (32 days past a month's start is in the next month,
        # 100 past a quarter's in the next quarter, 370 past a year's in the next year).
        return self.floor((bucket_start.astimezone(LOCAL) + step).replace(tzinfo=LOCAL))

    @property
    def max_range(self) -> timedelta:
        """Longest range one request may ask for: keeps a response a few thousand points."""
        return {
            Bucket.HOUR: timedelta(days=62),
            Bucket.DAY: timedelta(days=3 * 366),
        }.get(self, timedelta(days=20 * 366))

"""Time buckets: one enum that knows its own SQL, in the province's local time."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy.sql.elements import ColumnClause

LOCAL_TZ = "Asia/Ho_Chi_Minh"


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

    @property
    def max_range(self) -> timedelta:
        """Longest range one request may ask for: keeps a response a few thousand points."""
        return {
            Bucket.HOUR: timedelta(days=62),
            Bucket.DAY: timedelta(days=3 * 366),
        }.get(self, timedelta(days=20 * 366))

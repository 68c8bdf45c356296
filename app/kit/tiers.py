"""Which roll-up tier answers which part of a time range: whole local days from the day tier,
the partial days at the edges (and every hour bucket) from the hourly one."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.kit.buckets import Bucket
from models.clock import floor_local_day
from models.tables import Grain


def spans(bucket: Bucket, start: datetime, end: datetime) -> list[tuple[Grain, datetime, datetime]]:
    """``[start, end)`` cut into disjoint spans, each with the tier grain that can sum it."""
    if bucket is Bucket.HOUR:
        return [(Grain.HOUR, start, end)]
    first_day = floor_local_day(start)
    if first_day < start:
        first_day = floor_local_day(first_day + timedelta(hours=36))
    last_day = floor_local_day(end)
    if first_day >= last_day:
        return [(Grain.HOUR, start, end)]
    out = [(Grain.DAY, first_day, last_day)]
    out += [(Grain.HOUR, a, b) for a, b in ((start, first_day), (last_day, end)) if a < b]
    return out

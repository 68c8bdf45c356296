"""Arithmetic on one value: divide last, round to the catalogue's decimals, judge against
the target in force, and say how much of its period a value covers."""

from __future__ import annotations

import math
from datetime import datetime

from app.indicators.schemas import Status
from app.kit.buckets import LOCAL, Bucket
from models.indicators import Indicator, Target


def value_of(indicator: Indicator, numerator: float, denominator: float | None) -> float | None:
    """factor × numerator / denominator to the catalogue's decimals; None when N/A."""
    if indicator.denominator is None:
        return round(numerator * indicator.factor, indicator.decimals)
    if not denominator:
        return None
    return round(indicator.factor * numerator / denominator, indicator.decimals)


def judge(
    indicator: Indicator, value: float | None, period: datetime, level: str
) -> tuple[float | None, float | None, str]:
    """(target, gap = value − target, status) for a value of a period at a level."""
    return judged(indicator, value, target_in_force(indicator, period, level))


def target_in_force(indicator: Indicator, period: datetime, level: str) -> Target | None:
    """The target that binds a period at a level (by the period's local year)."""
    return indicator.target_for(period.astimezone(LOCAL).year, level)


def judged(
    indicator: Indicator, value: float | None, target: Target | None
) -> tuple[float | None, float | None, Status]:
    """(target, gap = value − target, status) for a value against the target in force."""
    if target is None or value is None:
        return (target.value if target else None), None, "none"
    gap = round(value - target.value, indicator.decimals)
    sign = 1 if indicator.higher_is_better else -1
    if sign * (value - target.value) >= 0:
        return target.value, gap, "green"
    if sign * (value - target.amber_at) >= 0:
        return target.value, gap, "amber"
    return target.value, gap, "red"


def period_covered(
    bucket: Bucket,
    period: datetime,
    start: datetime,
    end: datetime,
    now: datetime,
    period_end: datetime | None = None,
) -> float:
    """Share of the period inside ``[start, min(end, now))``: 1 only for a whole, finished
    one (4 decimals, rounded down, so a period short of a second is not shown whole).
    ``period_end``: the period's end when already known (``bucket.next_start(period)``)."""
    if period_end is None:
        period_end = bucket.next_start(period)
    covered = min(period_end, end, now) - max(period, start)
    return math.floor(max(covered / (period_end - period), 0.0) * 10_000) / 10_000

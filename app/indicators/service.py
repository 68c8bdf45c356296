"""Indicator logic: validate the question, fetch sums, divide last."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from app.indicators import repository
from app.indicators.schemas import IndicatorSeries, IndicatorValue
from app.kit.buckets import LOCAL_TZ, Bucket
from app.kit.errors import InvalidRequest, NotFound
from app.units.repository import get_unit
from models.indicators import BY_CODE, Indicator

LOCAL = ZoneInfo(LOCAL_TZ)
LEVEL_DEPTH = {"province": 0, "district": 1, "commune": 2}


def get_indicator(code: str) -> Indicator:
    try:
        return BY_CODE[code]
    except KeyError:
        raise NotFound(
            f"Unknown indicator {code!r}; valid codes: {', '.join(sorted(BY_CODE))}."
        ) from None


async def indicator_series(
    conn: AsyncConnection,
    code: str,
    *,
    unit: str,
    level: str | None,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    hierarchy: str,
) -> IndicatorSeries:
    indicator = get_indicator(code)
    if end <= start:
        raise InvalidRequest(
            f"'to' ({end.isoformat()}) must be after 'from' ({start.isoformat()})."
        )
    if end - start > bucket.max_range:
        raise InvalidRequest(
            f"Range of {(end - start).days} days is too long for bucket={bucket}; "
            f"at most {bucket.max_range // timedelta(days=1)} days."
        )
    found = await get_unit(conn, unit, hierarchy)
    if found is None:
        raise NotFound(f"Unknown unit {unit!r} in hierarchy {hierarchy}; see /api/v1/units.")
    level = level or found.level
    if level not in indicator.levels or not _at_or_below(level, found.level):
        raise InvalidRequest(
            f"level={level} is not at or below unit {unit} ({found.level}); "
            f"choose one of {[lv for lv in indicator.levels if _at_or_below(lv, found.level)]}."
        )
    points = await repository.series(
        conn, indicator, unit=unit, level=level, bucket=bucket, start=start, end=end,
        hierarchy=hierarchy,
    )  # fmt: skip
    values = [
        IndicatorValue(
            unit_code=p.unit_code,
            period_start=p.period_start.astimezone(LOCAL),
            value=_value(indicator, p.numerator, p.denominator),
            numerator=p.numerator,
            denominator=p.denominator,
            as_of=p.as_of,
        )
        for p in points
    ]
    return IndicatorSeries(indicator=indicator, values=values)


def _value(indicator: Indicator, numerator: float, denominator: float | None) -> float | None:
    if indicator.denominator is None:
        return numerator * indicator.factor
    if not denominator:
        return None
    return round(indicator.factor * numerator / denominator, 4)


def _at_or_below(level: str, unit_level: str) -> bool:
    return LEVEL_DEPTH[level] >= LEVEL_DEPTH[unit_level]

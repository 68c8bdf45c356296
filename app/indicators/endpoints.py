"""Indicator routes: thin; the service does the thinking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query

from app.indicators import service
from app.indicators.schemas import IndicatorSeries
from app.kit.buckets import LOCAL_TZ, Bucket
from app.kit.db import ConnDep
from models.indicators import CATALOGUE, Indicator

router = APIRouter(prefix="/indicators", tags=["indicators"])


@router.get("")
async def list_indicators() -> list[Indicator]:
    """The indicator catalogue."""
    return list(CATALOGUE)


@router.get("/{code}/values")
async def indicator_values(
    conn: ConnDep,
    code: Annotated[str, Path(examples=["health.encounters"])],
    unit: Annotated[str, Query(description="Unit whose subtree is shown.")] = "49",
    level: Annotated[
        Literal["province", "district", "commune"] | None,
        Query(description="Level of the units in the series; default: the unit's own."),
    ] = None,
    bucket: Bucket = Bucket.DAY,
    from_: Annotated[
        datetime | None, Query(alias="from", description="Default: 7 days ago.")
    ] = None,
    to: Annotated[datetime | None, Query(description="Exclusive; default: now.")] = None,
    hierarchy: Literal["2020", "2025"] = "2020",
) -> IndicatorSeries:
    """A time-bucketed series of one indicator for the units at a level within a unit."""
    end = _aware(to) if to else datetime.now(UTC)
    start = _aware(from_) if from_ else end - timedelta(days=7)
    return await service.indicator_series(
        conn, code, unit=unit, level=level, bucket=bucket, start=start, end=end,
        hierarchy=hierarchy,
    )  # fmt: skip


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are read as Asia/Ho_Chi_Minh time, the province's clock."""
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(LOCAL_TZ))

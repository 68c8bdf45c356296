"""Indicator routes: thin; the service does the thinking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import CurrentPrincipal
from app.indicators import service
from app.indicators.schemas import IndicatorSeries, Ranking
from app.indicators.service import Question
from app.kit.answers import json_body
from app.kit.buckets import Bucket
from app.kit.db import ReadsDep
from app.kit.ranges import RangeDep, aware, within_bounds
from app.resources import AnswersDep, NowDep, VolumeScaleDep
from models.indicators import Indicator

router = APIRouter(prefix="/indicators", tags=["indicators"])

Code = Annotated[str, Path(max_length=64, examples=["health.emergency_share"])]
UnitQ = Annotated[
    str | None,
    Query(max_length=16, description="Unit whose subtree is shown; default: the province.",
          examples=["503"]),
]  # fmt: skip
LevelQ = Annotated[
    Literal["province", "district", "commune"] | None,
    Query(description="Level of the units in the series; default: the unit's own."),
]
Hierarchy = Annotated[
    Literal["2020", "2025"],
    Query(description="2020: province → district → commune; 2025: province → commune."),
]


@router.get("")
async def list_indicators(
    sector: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Only this sector's indicators (`public_services` is read as "
            "`public_service`, the spelling of earlier versions).",
            examples=["health", "public_service"],
        ),
    ] = None,
) -> list[Indicator]:
    """The indicator catalogue: definitions, units, directions and targets."""
    return service.catalogue(sector)


@router.get("/{code}")
async def get_indicator(code: Code) -> Indicator:
    """One catalogue entry."""
    return service.get_indicator(code)


@dataclass(frozen=True, slots=True)
class SeriesAsked:
    """The series a request asks for, as sent (the indicator already open to the asker):
    checked against the unit tree only when it has to be answered, since a kept answer was
    checked when it was computed. Shared by values and open-data exports."""

    indicator: Indicator
    unit: str | None
    level: str | None
    bucket: Bucket
    start: datetime
    end: datetime
    hierarchy: str
    volume_scale: float
    now: datetime

    def settled(self) -> bool:
        """Every period asked is over (``Question.settled``), known before any look-up."""
        return self.bucket.settled(self.start, self.end, self.now)

    def reads_until(self) -> datetime:
        """The end of the last period asked, which the answer reads up to."""
        return self.bucket.last_end(self.start, self.end)

    async def question(self, conn: AsyncConnection) -> Question:
        return await service.ask(
            conn, self.indicator, unit=self.unit, level=self.level, bucket=self.bucket,
            start=self.start, end=self.end, hierarchy=self.hierarchy,
            volume_scale=self.volume_scale, now=self.now,
        )  # fmt: skip


async def series_asked(
    scale: VolumeScaleDep,
    now: NowDep,
    principal: CurrentPrincipal,
    code: Code,
    period: RangeDep,
    unit: UnitQ = None,
    level: LevelQ = None,
    bucket: Bucket = Bucket.DAY,
    hierarchy: Hierarchy = "2020",
) -> SeriesAsked:
    indicator = service.get_indicator(code, principal)
    return SeriesAsked(
        indicator, unit, level, bucket, period.start, period.end, hierarchy, scale, now
    )


SeriesAskedDep = Annotated[SeriesAsked, Depends(series_asked)]


@router.get("/{code}/values", response_model=IndicatorSeries)
async def indicator_values(
    request: Request,
    reads: ReadsDep,
    principal: CurrentPrincipal,
    asked: SeriesAskedDep,
    answers: AnswersDep,
) -> Response:
    """A time-bucketed series of one indicator for the units at a level within a unit."""

    async def compute(conn: AsyncConnection) -> bytes:
        return json_body(await service.series(conn, await asked.question(conn), principal))

    body = await answers.served(
        reads, request, principal.role, settled=asked.settled(), end=asked.reads_until(),
        compute=compute, size=len,
    )  # fmt: skip
    return Response(body, media_type="application/json")


@router.get("/{code}/ranking", response_model=Ranking)
async def indicator_ranking(
    request: Request,
    answers: AnswersDep,
    reads: ReadsDep,
    scale: VolumeScaleDep,
    now: NowDep,
    principal: CurrentPrincipal,
    code: Code,
    period: Annotated[
        datetime | None,
        Query(
            description="Any moment in the bucket to rank; default: now.",
            examples=["2025-06-15T00:00:00+07:00"],
        ),
    ] = None,
    bucket: Bucket = Bucket.MONTH,
    level: Annotated[
        Literal["district", "commune"], Query(description="Level of the units ranked.")
    ] = "district",
    unit: UnitQ = None,
    hierarchy: Hierarchy = "2020",
) -> Response:
    """Units at a level ranked best to worst for one bucket, with the province's value."""
    indicator = service.get_indicator(code, principal)
    moment = within_bounds("period", aware(period)) if period else now
    start, end = service.bucket_bounds(bucket, moment)

    async def compute(conn: AsyncConnection) -> bytes:
        within = await service.ask(
            conn, indicator, unit=unit, level=None, bucket=bucket, start=start, end=end,
            hierarchy=hierarchy, volume_scale=scale, now=now,
        )  # fmt: skip
        ranked = await service.ask(
            conn, indicator, unit=within.unit, level=level, bucket=bucket, start=start,
            end=end, hierarchy=hierarchy, volume_scale=scale, now=now,
        )  # fmt: skip
        return json_body(await service.ranking(conn, ranked, within, principal))

    body = await answers.served(
        reads,
        request,
        principal.role,
        settled=bucket.settled(start, end, now),
        end=end,
        compute=compute,
        size=len,
    )
    return Response(body, media_type="application/json")

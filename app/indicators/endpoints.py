"""Indicator routes: thin; the service does the thinking."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.auth import CurrentPrincipal
from app.indicators import service
from app.indicators.schemas import IndicatorSeries, Ranking
from app.indicators.service import Question
from app.kit.answers import json_body
from app.kit.buckets import Bucket
from app.kit.db import ConnDep
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


async def series_question(
    conn: ConnDep,
    scale: VolumeScaleDep,
    now: NowDep,
    principal: CurrentPrincipal,
    code: Code,
    period: RangeDep,
    unit: UnitQ = None,
    level: LevelQ = None,
    bucket: Bucket = Bucket.DAY,
    hierarchy: Hierarchy = "2020",
) -> Question:
    """The series a request asks for, checked: shared by values and open-data exports."""
    indicator = service.get_indicator(code, principal)
    return await service.ask(
        conn, indicator, unit=unit, level=level, bucket=bucket, start=period.start,
        end=period.end, hierarchy=hierarchy, volume_scale=scale, now=now,
    )  # fmt: skip


SeriesQuestion = Annotated[Question, Depends(series_question)]


@router.get("/{code}/values", response_model=IndicatorSeries)
async def indicator_values(
    request: Request,
    conn: ConnDep,
    principal: CurrentPrincipal,
    question: SeriesQuestion,
    answers: AnswersDep,
) -> Response:
    """A time-bucketed series of one indicator for the units at a level within a unit."""
    key = await answers.key(conn, request, principal.role, settled=question.settled())
    if (body := answers.get(key)) is None:
        body = json_body(await service.series(conn, question, principal))
        answers.put(key, body, len(body))
    return Response(body, media_type="application/json")


@router.get("/{code}/ranking", response_model=Ranking)
async def indicator_ranking(
    request: Request,
    answers: AnswersDep,
    conn: ConnDep,
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
    within = await service.ask(
        conn, indicator, unit=unit, level=None, bucket=bucket, start=start, end=end,
        hierarchy=hierarchy, volume_scale=scale, now=now,
    )  # fmt: skip
    ranked = await service.ask(
        conn, indicator, unit=within.unit, level=level, bucket=bucket, start=start, end=end,
        hierarchy=hierarchy, volume_scale=scale, now=now,
    )  # fmt: skip
    key = await answers.key(conn, request, principal.role, settled=ranked.settled())
    if (body := answers.get(key)) is None:
        body = json_body(await service.ranking(conn, ranked, within, principal))
        answers.put(key, body, len(body))
    return Response(body, media_type="application/json")

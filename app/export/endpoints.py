"""Open-data routes: ``/export/{code}.csv`` and ``/export/{code}.json``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.auth import CurrentPrincipal
from app.export import service
from app.export.schemas import ExportDocument
from app.indicators import service as indicators
from app.kit.buckets import Bucket
from app.kit.db import ConnDep
from app.kit.ranges import RangeDep

router = APIRouter(prefix="/export", tags=["open data"])


@router.get(
    "/{code}.{fmt}",
    response_model=ExportDocument,
    responses={200: {"content": {"text/csv": {}}, "description": "The series, CSV or JSON."}},
)
async def export_series(
    conn: ConnDep,
    principal: CurrentPrincipal,
    code: Annotated[str, Path(max_length=64, examples=["health.encounters"])],
    fmt: Annotated[Literal["csv", "json"], Path(description="File format.")],
    period: RangeDep,
    unit: Annotated[str | None, Query(max_length=16, description="Default: province.")] = None,
    level: Literal["province", "district", "commune"] | None = None,
    bucket: Bucket = Bucket.DAY,
    hierarchy: Literal["2020", "2025"] = "2020",
) -> Response:
    """An indicator series as open data; health counts under 5 are suppressed."""
    indicator = indicators.get_indicator(code, principal)
    q = await indicators.ask(
        conn, indicator, unit=unit, level=level, bucket=bucket, start=period.start,
        end=period.end, hierarchy=hierarchy,
    )  # fmt: skip
    doc = await service.document(conn, q)
    name = f"{code}_{q.unit}_{q.level}_{bucket}"
    if fmt == "csv":
        return Response(
            service.to_csv(doc),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        doc.model_dump_json(),
        media_type="application/json",
        headers={"Content-Disposition": f'inline; filename="{name}.json"'},
    )

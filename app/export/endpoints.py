"""Open-data routes: ``/export/{code}.csv`` and ``/export/{code}.json``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from fastapi.responses import Response, StreamingResponse

from app.auth import CurrentPrincipal
from app.export import service
from app.export.schemas import ExportDocument
from app.indicators.endpoints import SeriesQuestion
from app.kit.db import ConnDep

router = APIRouter(prefix="/export", tags=["open data"])


@router.get(
    "/{code}.{fmt}",
    response_model=ExportDocument,
    responses={200: {"content": {"text/csv": {}}, "description": "The series, CSV or JSON."}},
)
async def export_series(
    conn: ConnDep,
    principal: CurrentPrincipal,
    question: SeriesQuestion,
    code: Annotated[str, Path(max_length=64, examples=["health.encounters"])],
    fmt: Annotated[Literal["csv", "json"], Path(description="File format.")],
) -> Response:
    """An indicator series as open data; health counts under 5 are withheld from the public.
    The body is streamed as it is written."""
    doc = await service.document(conn, question, principal)
    name = f"{code}_{question.unit}_{question.level}_{question.bucket}"
    if fmt == "csv":
        return StreamingResponse(
            service.csv_chunks(doc),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return StreamingResponse(
        service.json_chunks(doc),
        media_type="application/json",
        headers={"Content-Disposition": f'inline; filename="{name}.json"'},
    )

"""Open-data routes: ``/export/{code}.csv`` and ``/export/{code}.json``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response, StreamingResponse

from app.auth import CurrentPrincipal
from app.export import service
from app.export.schemas import ExportDocument, ExportedValue
from app.indicators.endpoints import SeriesAskedDep
from app.indicators.questions import Question
from app.kit.db import ConnDep
from app.resources import AnswersDep

router = APIRouter(prefix="/export", tags=["open data"])


@router.get(
    "/{code}.{fmt}",
    response_model=ExportDocument,
    responses={200: {"content": {"text/csv": {}}, "description": "The series, CSV or JSON."}},
)
async def export_series(
    request: Request,
    answers: AnswersDep,
    conn: ConnDep,
    principal: CurrentPrincipal,
    asked: SeriesAskedDep,
    code: Annotated[str, Path(max_length=64, examples=["health.encounters"])],
    fmt: Annotated[Literal["csv", "json"], Path(description="File format.")],
) -> Response:
    """An indicator series as open data; health counts under 5 are withheld from the public.
    The body is streamed as it is written."""

    async def compute() -> tuple[Question, list[ExportedValue]]:
        question = await asked.question(conn)
        return question, await service.values(conn, question, principal)

    key = await answers.key(conn, request, principal.role, settled=asked.settled())
    question, values = await answers.answer(
        key, compute, lambda answer: len(answer[1]) * service.VALUE_BYTES
    )
    doc = service.document(question, values)
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

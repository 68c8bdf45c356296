"""Open-data routes: ``/export/{code}.csv`` and ``/export/{code}.json``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import CurrentPrincipal
from app.export import service
from app.export.schemas import ExportDocument
from app.indicators.endpoints import SeriesAskedDep
from app.indicators.questions import Question
from app.kit.db import ReadsDep
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
    reads: ReadsDep,
    principal: CurrentPrincipal,
    asked: SeriesAskedDep,
    code: Annotated[str, Path(max_length=64, examples=["health.encounters"])],
    fmt: Annotated[Literal["csv", "json"], Path(description="File format.")],
) -> Response:
    """An indicator series as open data; health counts under 5 are withheld from the public.
    The body is streamed as it is written; a settled series' body is kept whole
    (``app.kit.answers``) and sent from memory to the next asker of the same snapshot."""

    settled = asked.settled()
    kept = await answers.kept(reads, request, principal.role, settled=settled)
    if kept is not None:
        return _streamed(code, *kept, fmt=fmt)

    async def written(conn: AsyncConnection) -> tuple[Question, Iterator[bytes]]:
        question = await asked.question(conn)
        doc = service.document(question, await service.values(conn, question, principal))
        return question, service.rendered(doc, fmt)

    body: bytes | Iterator[bytes]
    async with reads.transaction() as conn:
        key = answers.key(request, principal.role, settled=settled)
        if key is None:  # the values are read now; the file is written as the client reads
            question, body = await written(conn)
        else:

            async def compute() -> tuple[Question, bytes]:
                question, pieces = await written(conn)
                return question, b"".join(pieces)

            question, whole = await answers.answer(
                key, asked.reads_until(), compute, lambda answer: len(answer[1])
            )
            body = whole
    return _streamed(code, question, body, fmt=fmt)


def _streamed(
    code: str, question: Question, body: Iterator[bytes] | bytes, *, fmt: str
) -> Response:
    """The file: written piece by piece as the client reads it, or, kept whole in memory
    already, sent as it is (with its length; no worker-thread hop per piece)."""
    name = f"{code}_{question.unit}_{question.level}_{question.bucket}"
    if fmt == "csv":
        media = "text/csv; charset=utf-8"
        headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    else:
        media = "application/json"
        headers = {"Content-Disposition": f'inline; filename="{name}.json"'}
    if isinstance(body, bytes):
        return Response(body, media_type=media, headers=headers)
    return StreamingResponse(body, media_type=media, headers=headers)

"""Build exports: the indicator series, small counts withheld from the public (health).

The body is written in chunks of :data:`CHUNK` values as the client reads it (a year of
communes by day is tens of megabytes of text); the values themselves are the answer's, as
the values route gives them. A settled series' body (every period over) is written whole
once, kept (``app.kit.answers``, within ``IOC_ANSWER_CACHE_MB``) and sent as it is to
whoever asks again before a commit may have changed it: a few megabytes of text,
beside the values it is written from, which are held whole either way."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import Principal
from app.export.schemas import ExportDocument, ExportedValue
from app.indicators import service as indicators
from app.indicators.service import Question

CSV_COLUMNS = (
    "indicator", "name_vi", "name_en", "unit", "unit_code", "period_start", "value",
    "numerator", "denominator", "target", "gap", "status", "completeness", "as_of",
    "suppressed",
)  # fmt: skip


async def values(conn: AsyncConnection, q: Question, principal: Principal) -> list[ExportedValue]:
    """The series' values as ``principal`` may see them."""
    return await indicators.disclosed(conn, q, await indicators.values(conn, q), principal)


def document(q: Question, values: list[ExportedValue]) -> ExportDocument:
    return ExportDocument(
        indicator=q.indicator,
        generated_at=datetime.now(UTC),
        hierarchy=q.hierarchy,
        bucket=q.bucket,
        values=values,
    )


CHUNK = 1000
"""Values written per piece of a streamed body."""
_VALUES = TypeAdapter(list[ExportedValue])


def csv_chunks(doc: ExportDocument) -> Iterator[str]:
    """The document as CSV text, a header then :data:`CHUNK` rows at a time."""
    ind = doc.indicator
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in range(0, len(doc.values), CHUNK):
        for v in doc.values[i : i + CHUNK]:
            writer.writerow(
                [ind.code, ind.name_vi, ind.name_en, ind.unit, v.unit_code,
                 v.period_start.isoformat(), _cell(v.value), _cell(v.numerator),
                 _cell(v.denominator), _cell(v.target), _cell(v.gap), v.status,
                 _cell(v.completeness), v.as_of.isoformat() if v.as_of else "",
                 "true" if v.suppressed else "false"]
            )  # fmt: skip
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():  # the header of an empty series
        yield out.getvalue()


def json_chunks(doc: ExportDocument) -> Iterator[bytes]:
    """The document as JSON, byte for byte ``doc.model_dump_json()``, its values
    :data:`CHUNK` at a time."""
    head = doc.model_dump_json(exclude={"values"})
    yield head[:-1].encode() + b',"values":['
    for i in range(0, len(doc.values), CHUNK):
        part = _VALUES.dump_json(doc.values[i : i + CHUNK])[1:-1]
        yield (b"," if i else b"") + part
    yield b"]}"


def rendered(doc: ExportDocument, fmt: str) -> Iterator[bytes]:
    """The document in ``fmt`` (``csv`` or ``json``), piece by piece, as bytes."""
    if fmt == "csv":
        return (piece.encode() for piece in csv_chunks(doc))
    return json_chunks(doc)


def _cell(number: float | None) -> str:
    return "" if number is None else f"{number:g}"

"""Build exports: the indicator series, small counts withheld from the public (health)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import Principal
from app.export.schemas import ExportDocument
from app.indicators import service as indicators
from app.indicators.service import Question

CSV_COLUMNS = (
    "indicator", "name_vi", "name_en", "unit", "unit_code", "period_start", "value",
    "numerator", "denominator", "target", "gap", "status", "completeness", "as_of",
    "suppressed",
)  # fmt: skip


async def document(conn: AsyncConnection, q: Question, principal: Principal) -> ExportDocument:
    values = await indicators.disclosed(conn, q, await indicators.values(conn, q), principal)
    return ExportDocument(
        indicator=q.indicator,
        generated_at=datetime.now(UTC),
        hierarchy=q.hierarchy,
        bucket=q.bucket,
        values=values,
    )


def to_csv(doc: ExportDocument) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    ind = doc.indicator
    for v in doc.values:
        writer.writerow(
            [ind.code, ind.name_vi, ind.name_en, ind.unit, v.unit_code,
             v.period_start.isoformat(), _cell(v.value), _cell(v.numerator),
             _cell(v.denominator), _cell(v.target), _cell(v.gap), v.status,
             _cell(v.completeness), v.as_of.isoformat() if v.as_of else "",
             "true" if v.suppressed else "false"]
        )  # fmt: skip
    return out.getvalue()


def _cell(number: float | None) -> str:
    return "" if number is None else f"{number:g}"

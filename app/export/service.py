"""Build exports: the indicator series, small counts suppressed where the catalogue says."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from app.export.schemas import SMALL_COUNT, ExportDocument, ExportedValue
from app.indicators import service as indicators
from app.indicators.schemas import IndicatorValue
from app.indicators.service import Question
from models.indicators import Indicator

CSV_COLUMNS = (
    "indicator", "name_vi", "name_en", "unit", "unit_code", "period_start", "value",
    "numerator", "denominator", "target", "gap", "status", "completeness", "as_of",
    "suppressed",
)  # fmt: skip


def suppress(indicator: Indicator, value: IndicatorValue) -> ExportedValue:
    """Withhold counts (and the value made of them) under ``SMALL_COUNT``, except zeros."""
    row = ExportedValue(**value.model_dump())
    if not indicator.suppress_small_counts:
        return row
    counts = [value.numerator or 0.0]
    if indicator.denominator is not None and indicator.denominator.kind == "sum":
        counts.append(value.denominator or 0.0)
    if any(0 < c < SMALL_COUNT for c in counts):
        return row.model_copy(
            update={"numerator": None, "denominator": None, "value": None, "gap": None,
                    "status": "none", "suppressed": True}
        )  # fmt: skip
    return row


async def document(conn: AsyncConnection, q: Question) -> ExportDocument:
    values = await indicators.values(conn, q)
    return ExportDocument(
        indicator=q.indicator,
        generated_at=datetime.now(UTC),
        hierarchy=q.hierarchy,
        bucket=q.bucket,
        values=[suppress(q.indicator, v) for v in values],
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

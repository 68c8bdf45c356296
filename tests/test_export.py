"""Open data: CSV and JSON of a series with the catalogue as metadata; small counts withheld."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.writer import RawMessage, Writer
from models.events import dump_event
from tests import ingest_builders as b

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)
SOURCE = b.source_for(b.ev.HEALTH_ENCOUNTER)
WINDOW = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=3)).isoformat()}


async def ingest(engine: AsyncEngine, docs: list[dict[str, Any]]) -> None:
    messages = [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    assert (await Writer(engine).write(messages)).inserted == len(docs)


async def test_health_export_suppresses_counts_under_five(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    # Hour 1: 12 encounters; hour 2: 3 (a count that could single a patient out).
    docs = [b.encounter(T0 + timedelta(minutes=4 * i), i) for i in range(12)]
    docs += [b.encounter(T0 + timedelta(hours=1, minutes=i), i) for i in range(3)]
    await ingest(clean_db, docs)
    params = {**WINDOW, "unit": SOURCE.commune_code, "bucket": "hour"}

    doc = (await api.get("/api/v1/export/health.encounters.json", params=params)).json()
    assert doc["indicator"]["code"] == "health.encounters"
    assert doc["indicator"]["name_vi"] == "Số lượt khám chữa bệnh"
    assert doc["license"] == "CC BY 4.0"
    rows = [(v["value"], v["numerator"], v["suppressed"]) for v in doc["values"]]
    assert rows[:2] == [(12.0, 12.0, False), (None, None, True)]

    response = await api.get("/api/v1/export/health.encounters.csv", params=params)
    assert response.headers["content-type"].startswith("text/csv")
    assert "health.encounters_" in response.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["value"], r["numerator"], r["suppressed"]) for r in table[:2]] == [
        ("12", "12", "false"),
        ("", "", "true"),
    ]
    assert {r["name_en"] for r in table} == {"Health encounters"}


async def test_exports_share_the_values_routes_checks(api: AsyncClient) -> None:
    assert (await api.get("/api/v1/export/health.nope.csv")).status_code == 404
    bad_format = await api.get("/api/v1/export/health.encounters.xlsx")
    assert bad_format.status_code == 422 and "csv" in bad_format.text
    assert (await api.get("/api/v1/export/data.completeness.csv")).status_code == 401


@pytest.mark.parametrize("n", [0, 1, 999, 1000, 1001, 2500])
def test_a_streamed_export_is_the_whole_document_in_pieces(n: int) -> None:
    """Streamed in pieces of CHUNK values, the body is the document's JSON byte for byte
    and its CSV a header and one line per value, whatever the count."""
    from app.export.schemas import ExportDocument
    from app.export.service import CHUNK, csv_chunks, json_chunks
    from app.indicators.schemas import IndicatorValue
    from models.catalogue import BY_CODE

    values = [
        IndicatorValue(
            unit_code=str(i),
            period_start=T0 + timedelta(days=i),
            value=i / 3,
            numerator=i,
            denominator=None,
            as_of=None,
            suppressed=i % 7 == 0,
        )
        for i in range(n)
    ]
    doc = ExportDocument(
        indicator=BY_CODE["health.encounters"], generated_at=T0, hierarchy="2020",
        bucket="day", values=values,
    )  # fmt: skip
    pieces = list(json_chunks(doc))
    assert b"".join(pieces) == doc.model_dump_json().encode()
    assert len(pieces) == 2 + -(-n // CHUNK)
    rows = list(csv.reader(io.StringIO("".join(csv_chunks(doc)))))
    assert len(rows) == n + 1 and [r[4] for r in rows[1:]] == [str(i) for i in range(n)]

"""The evaluator computes the top unit's values once for both hierarchies: Quảng Nam (2020
tree) and Đà Nẵng city (2025 tree) count the same event communes, so each measure sums the
same rows for them. Checked against the values asked of the 2025 tree directly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.indicators import service as indicators
from app.indicators.service import Question
from app.stream.evaluator import Evaluator
from app.stream.repository import StreamDraft
from app.units import repository as units_repo
from ingest.writer import RawMessage, Writer
from models.events import dump_event
from models.notify import ChangeNotice
from models.units import CITY_2025_CODE, HIERARCHY_2020, HIERARCHY_2025, PROVINCE_CODE
from tests import ingest_builders as b

pytestmark = pytest.mark.integration

TOP_OF = {HIERARCHY_2020: PROVINCE_CODE, HIERARCHY_2025: CITY_2025_CODE}


async def test_both_trees_top_units_count_the_same_communes(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as conn:
        under = {
            hierarchy: set((await units_repo.communes_of(conn, hierarchy))[top])
            for hierarchy, top in TOP_OF.items()
        }
    assert under[HIERARCHY_2020] and under[HIERARCHY_2020] == under[HIERARCHY_2025]


async def test_the_top_unit_is_computed_once_a_change_and_matches_its_own_question(
    clean_db: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    docs = [b.encounter(now - timedelta(minutes=1), i) for i in range(12)]
    messages = [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    assert (await Writer(clean_db).write(messages)).inserted == len(docs)

    evaluator = Evaluator(clean_db, database_url, alert_interval=0, volume_scale=1.0)
    published: list[StreamDraft] = []
    asked: list[Question] = []
    values = indicators.values

    async def publish(rows: list[StreamDraft]) -> list[int]:
        published.extend(rows)
        return []

    async def counted(conn: Any, q: Question, **options: Any) -> Any:
        asked.append(q)
        return await values(conn, q, **options)

    monkeypatch.setattr(evaluator, "publish", publish)
    monkeypatch.setattr(indicators, "values", counted)
    notice = ChangeNotice(
        rollups=["health_encounter_hourly"],
        communes=[b.source_for(b.ev.HEALTH_ENCOUNTER).commune_code],
        first_bucket=now,
        last_bucket=now,
        committed_at=now,
    )
    await evaluator.on_change(notice)

    tops = {
        (row.data["indicator"], row.data["hierarchy"]): row.data
        for row in published
        if row.data["level"] == "province" and not row.public_only
    }
    codes = {code for code, _ in tops}
    assert "health.encounters_per_10k" in codes  # a population denominator too
    assert {hierarchy for _, hierarchy in tops} == set(TOP_OF)
    province_questions = [q for q in asked if q.level == "province" and q.unit in TOP_OF.values()]
    assert {q.hierarchy for q in province_questions} == {HIERARCHY_2020}
    # What the 2025 wall was sent is what its own question answers.
    for code in codes:
        sent = tops[(code, HIERARCHY_2025)]
        assert sent["unit_code"] == CITY_2025_CODE
        q = next(q for q in province_questions if q.indicator.code == code)
        q = replace(q, unit=CITY_2025_CODE, hierarchy=HIERARCHY_2025)
        async with clean_db.connect() as conn:
            # When it was asked moves: as_of, and the share of today elapsed (a 1e-4 step of a
            # day is 8.64 s, which a loaded machine may take between the two questions).
            moments = {"as_of", "period_covered"}
            answers = [v.model_dump(mode="json", exclude=moments) for v in await values(conn, q)]
        (own,) = [v for v in answers if v["period_start"] == sent["period_start"]]
        assert {k: sent[k] for k in own} == own, code

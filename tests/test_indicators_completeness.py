"""Completeness and source status: a source that goes silent shows up in both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.writer import RawMessage, Writer
from models.events import HEALTH_ENCOUNTER, dump_event
from models.sources import source_registry
from models.units import legacy_units
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY

pytestmark = pytest.mark.integration

DAY = datetime(2025, 6, 1, 17, 0, tzinfo=UTC)  # 2 June 00:00 in Quảng Nam
PARENT = {u.code: u.parent_code for u in legacy_units()}
HIS = [s for s in source_registry() if HEALTH_ENCOUNTER.type in s.event_types]
# Districts with a single hospital system, so its district's completeness is its own.
ALONE = [s for s in HIS if sum(PARENT[o.commune_code] == PARENT[s.commune_code] for o in HIS) == 1]
STEADY, SILENCED = ALONE[0], ALONE[1]
OPERATOR = {"X-API-Key": ADMIN_API_KEY}


async def ingest(engine: AsyncEngine, docs: list[dict[str, Any]]) -> None:
    messages = [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    assert (await Writer(engine).write(messages)).inserted == len(docs)


def hourly(source: Any, hours: int) -> list[dict[str, Any]]:
    """More than the registry expects in each hour, so the source is complete while it sends."""
    per_hour = int(source.expected_per_hour) + 2
    return [
        b.encounter(DAY + timedelta(hours=h, seconds=m * 3600 // per_hour), m,
                    source=source.code, subject=source.commune_code)
        for h in range(hours)
        for m in range(per_hour)
    ]  # fmt: skip


async def test_a_silenced_source_lowers_completeness_and_is_flagged(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    await ingest(clean_db, hourly(STEADY, 24) + hourly(SILENCED, 12))  # silent after noon
    window = {"from": DAY.isoformat(), "to": (DAY + timedelta(days=1)).isoformat()}

    values = (
        await api.get(
            "/api/v1/indicators/health.encounters/values",
            params={**window, "level": "district", "bucket": "day"},
        )
    ).json()["values"]
    completeness = {v["unit_code"]: v["completeness"] for v in values}
    assert completeness[PARENT[STEADY.commune_code]] == 1.0
    sent = 12 * (int(SILENCED.expected_per_hour) + 2)
    expected = 24 * SILENCED.expected_per_hour
    assert completeness[PARENT[SILENCED.commune_code]] == round(sent / expected, 4) < 0.7

    by_hour = (
        await api.get(
            "/api/v1/indicators/health.encounters/values",
            params={**window, "unit": PARENT[SILENCED.commune_code], "bucket": "hour"},
        )
    ).json()["values"]
    # Complete in the morning; in the afternoon, points of zero that say why: nothing came.
    assert [v["completeness"] for v in by_hour] == [1.0] * 12 + [0.0] * 12
    assert [v["value"] for v in by_hour[12:]] == [0.0] * 12

    sources = (await api.get("/api/v1/sources", params=window, headers=OPERATOR)).json()
    by_code = {s["source"]: s for s in sources}
    steady, silenced = by_code[STEADY.code], by_code[SILENCED.code]
    assert steady["status"] == "fresh" and steady["completeness"] == 1.0
    assert silenced["status"] == "silent"
    assert silenced["completeness"] == round(sent / expected, 4)
    assert silenced["received"] == sent
    assert silenced["expected"] == pytest.approx(expected)
    assert silenced["on_time_share"] == 0.0  # replayed a year later: nothing was on time
    assert {s["status"] for s in sources if s["received"] == 0} == {"silent"}

    quality = (
        await api.get(
            "/api/v1/indicators/data.completeness/values",
            params={**window, "level": "district", "bucket": "day"},
            headers=OPERATOR,
        )
    ).json()["values"]
    by_unit = {v["unit_code"]: v for v in quality}
    silenced_district = by_unit[PARENT[SILENCED.commune_code]]
    assert silenced_district["status"] == "red" and silenced_district["value"] < 90


@pytest.mark.parametrize(
    ("bucket", "start", "end"),
    [
        ("day", datetime(2025, 1, 1, 3, 30, tzinfo=UTC), datetime(2025, 3, 10, 5, 15, tzinfo=UTC)),
        ("month", datetime(2024, 12, 31, 20, tzinfo=UTC), datetime(2025, 2, 14, tzinfo=UTC)),
        ("week", datetime(2025, 1, 20, 2, tzinfo=UTC), datetime(2025, 2, 20, 11, tzinfo=UTC)),
    ],
)
def test_expected_hours_by_whole_days_match_an_hour_by_hour_walk(
    bucket: str, start: datetime, end: datetime
) -> None:
    """Tết 2025 (late January) falls in these ranges: offices are not expected then."""
    from app.kit.buckets import Bucket
    from app.sources.service import _hour_slots, _reports_in, reporting_hours_by_period

    by = Bucket(bucket)
    registry = source_registry()
    got = reporting_hours_by_period(registry, by, start, end)
    kinds = {s.sector: s for s in registry}  # one source of each schedule family
    for source in kinds.values():
        walk: dict[datetime, float] = {}
        for slot, fraction in _hour_slots(start, end):
            if _reports_in(source, slot):
                walk[by.floor(slot)] = walk.get(by.floor(slot), 0.0) + fraction
        assert {k: round(v, 6) for k, v in got[source.code].items() if v} == {
            k: round(v, 6) for k, v in walk.items()
        }

"""Completeness and source status: a source that goes silent shows up in both."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.buckets import LOCAL
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
SENT_HOURS = 9


async def ingest(engine: AsyncEngine, docs: list[dict[str, Any]]) -> None:
    messages = [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    assert (await Writer(engine).write(messages)).inserted == len(docs)


def expected_in(source: Any, hour: int) -> float:
    """What the registry expects of ``source`` in the ``hour``-th hour of DAY (its profiles)."""
    local = (DAY + timedelta(hours=hour)).astimezone(LOCAL)
    weight = source.hour_weight(local.hour) * source.day_weight(local.weekday())
    return float(source.expected_per_hour * weight)


def per_hour(source: Any, hour: int) -> int:
    """More than the registry expects in that hour, so the source is complete while it sends."""
    return math.ceil(expected_in(source, hour)) + 2


def hourly(source: Any, hours: int) -> list[dict[str, Any]]:
    return [
        b.encounter(DAY + timedelta(hours=h, seconds=m * 3600 // per_hour(source, h)), m,
                    source=source.code, subject=source.commune_code)
        for h in range(hours)
        for m in range(per_hour(source, h))
    ]  # fmt: skip


async def test_a_silenced_source_lowers_completeness_and_is_flagged(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    # Silent from 09:00, before the clinics' morning peak.
    await ingest(clean_db, hourly(STEADY, 24) + hourly(SILENCED, SENT_HOURS))
    window = {"from": DAY.isoformat(), "to": (DAY + timedelta(days=1)).isoformat()}

    values = (
        await api.get(
            "/api/v1/indicators/health.encounters/values",
            params={**window, "level": "district", "bucket": "day"},
        )
    ).json()["values"]
    completeness = {v["unit_code"]: v["completeness"] for v in values}
    assert completeness[PARENT[STEADY.commune_code]] == 1.0
    # A hospital owes its census every hour: 9 of the day's 24 slots came.
    assert completeness[PARENT[SILENCED.commune_code]] == round(SENT_HOURS / 24, 4)

    by_hour = (
        await api.get(
            "/api/v1/indicators/health.encounters/values",
            params={**window, "unit": PARENT[SILENCED.commune_code], "bucket": "hour"},
        )
    ).json()["values"]
    # Complete until 09:00; after it, points of zero that say why: nothing came.
    quiet = 24 - SENT_HOURS
    assert [v["completeness"] for v in by_hour] == [1.0] * SENT_HOURS + [0.0] * quiet
    assert [v["value"] for v in by_hour[SENT_HOURS:]] == [0.0] * quiet

    sources = (await api.get("/api/v1/sources", params=window, headers=OPERATOR)).json()
    by_code = {s["source"]: s for s in sources}
    steady, silenced = by_code[STEADY.code], by_code[SILENCED.code]
    assert steady["status"] == "fresh" and steady["completeness"] == 1.0
    assert steady["missed_slots"] == 0 and steady["cadence"] == "hour"
    assert silenced["status"] == "silent" and silenced["missed_slots"] == 3
    assert (silenced["received_slots"], silenced["expected_slots"]) == (SENT_HOURS, 24)
    assert silenced["completeness"] == round(SENT_HOURS / 24, 4)
    sent = sum(per_hour(SILENCED, h) for h in range(SENT_HOURS))
    expected = sum(expected_in(SILENCED, h) for h in range(24))
    assert silenced["received"] == sent
    assert silenced["expected"] == pytest.approx(expected, abs=0.01)  # shown to 2 decimals
    assert silenced["volume_ratio"] == round(sent / expected, 4)
    assert silenced["on_time_share"] == 0.0  # replayed a year later: nothing was on time
    # Whatever owed slots in the window and sent nothing is silent.
    quiet_ones = [s for s in sources if s["received"] == 0 and s["expected_slots"]]
    assert {s["status"] for s in quiet_ones} == {"silent"}

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
    kinds = {(s.sector, s.hourly_profile != ()): s for s in registry}  # each schedule family
    for source in kinds.values():
        walk: dict[datetime, float] = {}
        for slot, fraction in _hour_slots(start, end):
            if _reports_in(source, slot):
                weight = source.hour_weight(slot.hour) * source.day_weight(slot.weekday())
                walk[by.floor(slot)] = walk.get(by.floor(slot), 0.0) + fraction * weight
        assert {k: round(v, 6) for k, v in got[source.code].items() if v} == {
            k: round(v, 6) for k, v in walk.items()
        }

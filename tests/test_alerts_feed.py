"""The alert rules on a simulated province: a healthy feed raises nothing, a fault raises
exactly the alert it should.

The feed is the simulators' (every stream, the province's full volume, seeded) over two
and a half days starting mid-morning, as a deployment's data starts partway: schools
reported that first morning before the data begins, dossiers and reports are in mid-life,
and June is out of school term (the schools' last owed reports are before the data). One
hospital (its HIS and its BHYT portal, the only hourly feeds of its district) goes off the
network for three hours of the third day. About 60,000 events: marked ``faults`` (a few
minutes on this shared machine), run by ``.ci/run``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.alerts import service
from app.alerts.schemas import EvaluationResult
from app.sources.service import source_statuses
from models.events import HEALTH_ENCOUNTER
from models.sources import source_registry
from models.units import legacy_units
from simulators.runner import collect
from simulators.streams import make_streams
from tests.helpers import write_docs

pytestmark = [pytest.mark.integration, pytest.mark.faults]

START = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)  # Monday 10:00 in Quảng Nam
OFFLINE_FROM = START + timedelta(days=2)  # Wednesday 10:00
BACK_AT = OFFLINE_FROM + timedelta(hours=3)
END = OFFLINE_FROM + timedelta(hours=8)
PARENT = {u.code: u.parent_code for u in legacy_units()}
HIS = [s for s in source_registry() if HEALTH_ENCOUNTER.type in s.event_types]
# A district with a single hospital and no other hourly feed (no tourist site, no district
# desk): its hospital's feeds are what its completeness over a few hours is made of.
ALONE = next(s for s in HIS if s.code == "his/TTYT-504")
OFFLINE = {ALONE.code, ALONE.code.replace("his/", "bhyt/")}
DISTRICT = PARENT[ALONE.commune_code]


async def ingest_feed(engine: AsyncEngine) -> None:
    docs = [
        d
        for d in collect(make_streams(seed=11), START, END)
        if not (
            d["source"] in OFFLINE and OFFLINE_FROM <= datetime.fromisoformat(d["time"]) < BACK_AT
        )
    ]
    assert await write_docs(engine, docs, batch=5_000) == len(docs)


async def evaluate(engine: AsyncEngine, as_of: datetime) -> EvaluationResult:
    async with engine.begin() as conn:
        return await service.evaluate(conn, as_of, volume_scale=1.0)


async def open_alerts(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        found = await service.search(conn, status="open", indicator=None, unit=None, limit=100)
    return sorted((a.rule_code, a.unit_code) for a in found)


async def test_a_healthy_feed_raises_nothing_and_a_hospital_offline_raises_its_alert(
    clean_db: AsyncEngine,
) -> None:
    await ingest_feed(clean_db)

    # Fault-free until OFFLINE_FROM: every rule evaluated hour by hour over the second day
    # (the first is where the data starts: nothing before it may read as missing).
    for hours in range(24, 48, 4):
        result = await evaluate(clean_db, START + timedelta(hours=hours))
        assert result.opened == [], [(a.rule_code, a.unit_code, a.value) for a in result.opened]
    assert await open_alerts(clean_db) == []
    async with clean_db.connect() as conn:
        statuses = await source_statuses(
            conn,
            start=OFFLINE_FROM - timedelta(days=1),
            end=OFFLINE_FROM,
            now=OFFLINE_FROM,
            volume_scale=1.0,
        )
    fresh = [s for s in statuses if s.status == "fresh"]
    assert len(fresh) >= 0.95 * len(statuses), [
        (s.source, s.status) for s in statuses if s.status != "fresh"
    ]

    # Three hours after the hospital went offline: its district's completeness alert, and
    # nothing else.
    offline = await evaluate(clean_db, OFFLINE_FROM + timedelta(hours=3))
    assert sorted((a.rule_code, a.unit_code, a.value) for a in offline.opened) == [
        ("data.completeness_low", DISTRICT, 0.0),
        ("data.hospital_feed_down", DISTRICT, 0.0),
    ]
    assert await open_alerts(clean_db) == [
        ("data.completeness_low", DISTRICT),
        ("data.hospital_feed_down", DISTRICT),
    ]
    # Back for three hours (clinic hours): every slot of the window arrived, the alert
    # resolves itself as recovered.
    back = await evaluate(clean_db, BACK_AT + timedelta(hours=3))
    assert sorted((a.rule_code, a.unit_code, a.resolution) for a in back.resolved) == [
        ("data.completeness_low", DISTRICT, "recovered"),
        ("data.hospital_feed_down", DISTRICT, "recovered"),
    ]
    assert back.opened == [] and await open_alerts(clean_db) == []

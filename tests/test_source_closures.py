"""The closure register: a declared closure (by an operator through the API, or by the
flood-day scenario) makes the closed sources owe nothing while it holds, in status and
completeness alike; a source that fails without one is still late."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.service import Role, issue_key
from app.sources import closures
from app.sources.schemas import SourceStatus
from app.sources.service import source_statuses
from models.clock import LOCAL
from models.units import legacy_units
from simulators.base import events_between
from simulators.scenarios import BY_NAME, ScenarioRun, with_scenario
from simulators.streams import make_streams
from tests.helpers import write_docs

pytestmark = pytest.mark.integration

DAY = dt.date(2025, 10, 21)
"""A Tuesday of the flood season, a school and working day."""
SEED = 2026
FLOOD = BY_NAME["flood_day"]
FLOOD_COMMUNES = {u.code for u in legacy_units() if u.parent_code == FLOOD.district}
FAILING = "school/THPT-514-1"
"""A school of another district whose feed fails that day, with no closure declared."""
OPEN_SCHOOL = "school/THPT-502-1"
MIDNIGHT = datetime.combine(DAY, dt.time(0), LOCAL)
JUDGED = MIDNIGHT + timedelta(hours=18)


@pytest.fixture
async def register(clean_db: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE source_closure"))
    yield clean_db
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE source_closure"))


async def _flood_day(engine: AsyncEngine) -> None:
    """Schools and desks through the flood day to 18:00, one unrelated school silent."""
    streams = make_streams(SEED, ("education", "public_service"))
    docs = [
        d
        for d in events_between(with_scenario(streams, FLOOD.name, DAY, SEED), MIDNIGHT, JUDGED)
        if d["source"] != FAILING
    ]
    assert await write_docs(engine, docs) == len(docs)


async def _statuses(engine: AsyncEngine) -> dict[str, SourceStatus]:
    async with engine.connect() as conn:
        found = await source_statuses(
            conn, start=MIDNIGHT, end=MIDNIGHT + timedelta(days=1), now=JUDGED, volume_scale=1.0
        )
    return {s.source: s for s in found}


def _closed_kind(status: SourceStatus) -> bool:
    return status.unit_code in FLOOD_COMMUNES and status.source.startswith(("school/", "motcua/"))


async def test_a_declared_flood_closure_owes_nothing_and_a_failing_source_is_still_late(
    register: AsyncEngine,
) -> None:
    await _flood_day(register)
    before = await _statuses(register)
    closed = [code for code, s in before.items() if _closed_kind(s)]
    # Undeclared, the closed schools' attendance (owed by 11:00) reads as missing.
    schools = [c for c in closed if c.startswith("school/")]
    assert schools and all(before[c].status in ("late", "silent") for c in schools)

    run = ScenarioRun(FLOOD, DAY, SEED)
    async with register.begin() as conn:
        for closure in run.closures():
            assert await closures.declare_once(conn, closure, "scenario flood_day")
            assert not await closures.declare_once(conn, closure, "scenario flood_day")
    after = await _statuses(register)
    assert all(after[c].status == "closed" for c in closed)
    assert all(after[c].expected_slots == 0 and after[c].missed_slots == 0 for c in closed)
    assert after[FAILING].status == "late" and after[FAILING].completeness == 0
    assert after[OPEN_SCHOOL].status == "fresh" and after[OPEN_SCHOOL].completeness == 1
    assert {c for c, s in after.items() if s.status in ("late", "silent")} & set(closed) == set()

    async with register.begin() as conn:
        for record in await closures.records(conn, start=MIDNIGHT, end=JUDGED):
            await closures.withdraw(conn, record.id, "duty operator", JUDGED)
    withdrawn = await _statuses(register)
    assert all(withdrawn[c].status in ("late", "silent") for c in schools)


async def test_an_operator_declares_and_withdraws_a_closure_and_the_record_stays(
    api: AsyncClient, register: AsyncEngine
) -> None:
    async with register.begin() as conn:
        _, operator = await issue_key(conn, name="duty operator", role=Role.OPERATOR)
        _, wall = await issue_key(conn, name="wall display", role=Role.WALL)
    now = datetime.now(UTC)
    body = {
        "source": OPEN_SCHOOL,
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        "reason": "Lũ lụt",
    }
    assert (await api.post("/api/v1/sources/closures", json=body)).status_code == 401
    refused = await api.post("/api/v1/sources/closures", json=body, headers={"X-API-Key": wall})
    assert refused.status_code == 403
    as_operator = {"X-API-Key": operator}
    both = await api.post(
        "/api/v1/sources/closures", json=body | {"unit_code": "508"}, headers=as_operator
    )
    unknown = await api.post(
        "/api/v1/sources/closures",
        json={**body, "source": None, "unit_code": "999"},
        headers=as_operator,
    )
    assert both.status_code == unknown.status_code == 422

    made = await api.post("/api/v1/sources/closures", json=body, headers=as_operator)
    assert made.status_code == 201, made.text
    closure = made.json()
    assert closure["declared_by"] == "duty operator" and closure["sources"] == [OPEN_SCHOOL]
    sources = await api.get("/api/v1/sources", headers={"X-API-Key": wall})
    assert {s["source"]: s["status"] for s in sources.json()}[OPEN_SCHOOL] == "closed"

    gone = await api.delete(f"/api/v1/sources/closures/{closure['id']}", headers=as_operator)
    assert gone.status_code == 200 and gone.json()["withdrawn_by"] == "duty operator"
    again = await api.delete(f"/api/v1/sources/closures/{closure['id']}", headers=as_operator)
    assert again.status_code == 404
    listed = await api.get("/api/v1/sources/closures", headers={"X-API-Key": wall})
    assert [(c["id"], c["withdrawn_by"]) for c in listed.json()] == [
        (closure["id"], "duty operator")
    ]
    sources = await api.get("/api/v1/sources", headers={"X-API-Key": wall})
    assert {s["source"]: s["status"] for s in sources.json()}[OPEN_SCHOOL] != "closed"

"""Answers kept per database snapshot: served again only while the data is unchanged, byte
for byte the answer computed afresh, and never for a question the clock still moves."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.answers import AnswerCache
from app.kit.snapshots import Snapshots
from app.resources import resources_of
from models.db import at_rest
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY
from tests.test_export import ingest

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)
DAY = {"from": "2025-06-02T00:00:00+07:00", "to": "2025-06-03T00:00:00+07:00"}
QUESTIONS = [
    ("/api/v1/indicators/health.encounters/values", {**DAY, "level": "commune"}),
    ("/api/v1/indicators/health.encounters/values", {**DAY, "bucket": "hour"}),
    ("/api/v1/indicators/health.emergency_share/values", {**DAY, "level": "district"}),
    (
        "/api/v1/indicators/health.encounters/ranking",
        {"period": "2025-06-02T12:00:00+07:00", "bucket": "day", "level": "commune"},
    ),
    ("/api/v1/export/health.encounters.csv", {**DAY, "level": "commune"}),
    ("/api/v1/export/health.encounters.json", {**DAY, "level": "district"}),
]


def kept(api: AsyncClient) -> float:
    registry = resources_of(api.app).metrics  # type: ignore[attr-defined]
    return registry.get_sample_value("ioc_api_answers_total", {"result": "kept"}) or 0.0


def encounters(n: int, commune: str, first: int = 0) -> list[dict[str, object]]:
    return [b.encounter(T0 + timedelta(minutes=i), first + i, subject=commune) for i in range(n)]


def without_generated_at(body: bytes) -> bytes:
    """An export's body less its ``generated_at`` (the moment it was written, not data)."""
    return re.sub(rb'"generated_at":"[^"]*",', b"", body)


async def test_a_settled_answer_is_served_again_until_the_data_changes(
    api: AsyncClient, uncached: AsyncClient, clean_db: AsyncEngine
) -> None:
    commune = b.source_for(b.ev.HEALTH_ENCOUNTER).commune_code
    await ingest(clean_db, encounters(12, commune))
    await at_rest(clean_db)  # the live stream's reaction to the batch commits too

    first = [(await api.get(path, params=params)).content for path, params in QUESTIONS]
    before = kept(api)
    again = [(await api.get(path, params=params)).content for path, params in QUESTIONS]
    assert kept(api) - before == len(QUESTIONS)  # each answered from memory
    fresh = [(await uncached.get(path, params=params)).content for path, params in QUESTIONS]
    assert [without_generated_at(x) for x in again] == [without_generated_at(x) for x in fresh]
    assert [without_generated_at(x) for x in again] == [without_generated_at(x) for x in first]

    # New events in the day: the next answers are the new data's, not the kept ones.
    await ingest(clean_db, encounters(9, commune, first=100))
    before = kept(api)
    after = [(await api.get(path, params=params)).content for path, params in QUESTIONS]
    assert kept(api) == before
    fresh = [(await uncached.get(path, params=params)).content for path, params in QUESTIONS]
    assert [without_generated_at(x) for x in after] == [without_generated_at(x) for x in fresh]
    day = (await api.get(QUESTIONS[0][0], params=QUESTIONS[0][1])).json()
    assert {v["unit_code"]: v["numerator"] for v in day["values"]}[commune] == 21


async def test_a_question_the_clock_still_moves_is_never_kept(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    commune = b.source_for(b.ev.HEALTH_ENCOUNTER).commune_code
    await ingest(clean_db, encounters(6, commune))
    now = datetime.now(UTC)
    open_ended = {"from": DAY["from"], "bucket": "month"}  # to: now, this month not over
    into_tomorrow = {"from": DAY["from"], "to": (now + timedelta(days=1)).isoformat()}
    before = kept(api)
    for params in (open_ended, open_ended, into_tomorrow, into_tomorrow):
        response = await api.get("/api/v1/indicators/health.encounters/values", params=params)
        assert response.status_code == 200
    assert kept(api) == before


async def test_the_public_and_an_operator_are_kept_apart(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    small = b.source_for(b.ev.HEALTH_ENCOUNTER).commune_code
    await ingest(clean_db, encounters(3, small))
    path, params = QUESTIONS[0]
    public = (await api.get(path, params=params)).json()
    operator = (await api.get(path, params=params, headers={"X-API-Key": ADMIN_API_KEY})).json()
    assert {v["unit_code"]: v["numerator"] for v in public["values"]}[small] is None
    assert {v["unit_code"]: v["numerator"] for v in operator["values"]}[small] == 3


Q = (("/q", (), "public"), 1)
"""A question in an epoch."""


async def test_one_computation_per_question_and_epoch_at_a_time() -> None:
    cache = AnswerCache(1 << 20, Snapshots("postgresql+psycopg://unused"))
    calls: list[str] = []
    gate = asyncio.Event()

    async def compute() -> bytes:
        calls.append("computed")
        await gate.wait()
        return b"answer"

    asked = [asyncio.create_task(cache.answer(Q, T0, compute, len)) for _ in range(5)]
    await asyncio.sleep(0.01)
    gate.set()
    assert await asyncio.gather(*asked) == [b"answer"] * 5
    assert calls == ["computed"]
    assert await cache.answer(Q, T0, compute, len) == b"answer"  # kept
    assert calls == ["computed"]
    assert await cache.answer(None, T0, compute, len) == b"answer"  # not settled: always computed
    assert calls == ["computed", "computed"]


async def test_a_failed_computation_is_not_kept_and_its_waiters_compute_their_own() -> None:
    cache = AnswerCache(1 << 20, Snapshots("postgresql+psycopg://unused"))
    gate = asyncio.Event()
    attempts = 0

    async def fails() -> bytes:
        nonlocal attempts
        attempts += 1
        await gate.wait()
        raise ValueError("the database went away")

    async def works() -> bytes:
        return b"answer"

    leader = asyncio.create_task(cache.answer(Q, T0, fails, len))
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(cache.answer(Q, T0, works, len))
    await asyncio.sleep(0.01)
    gate.set()
    with pytest.raises(ValueError):
        await leader
    assert await waiter == b"answer" and attempts == 1
    assert await cache.answer(Q, T0, fails, len) == b"answer"  # the waiter's answer was kept

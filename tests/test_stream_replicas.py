"""Two API replicas on one database: one evaluator (advisory lock, taken over when it dies),
the same stream ids on both, and ``Last-Event-ID`` resumes on the other replica. Plus the
mailbox that keeps a slow client current without ever resetting one that keeps up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.resources import resources_of
from app.stream.repository import EVALUATOR_LOCK
from app.stream.schemas import StreamEvent
from app.stream.service import Mailbox
from models.settings import Settings
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY
from tests.helpers import HANG_GUARD, scalar, wait_for
from tests.serving import serving
from tests.test_stream import events, ingest, next_event

SETTINGS = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=3600)


def _value(unit: str, value: float, event_id: int) -> StreamEvent:
    data = {"indicator": "health.encounters", "level": "commune", "bucket": "day",
            "unit_code": unit, "period_start": "2025-06-01", "value": value}  # fmt: skip
    return StreamEvent(id=event_id, kind="indicator", data=data, indicator="health.encounters")


async def test_a_slow_client_gets_the_newest_value_of_each_key_in_id_order() -> None:
    mailbox = Mailbox()
    mailbox.put(_value("20335", 1, 1))
    mailbox.put(_value("20336", 5, 2))
    mailbox.put(_value("20335", 2, 3))  # replaces the first: same unit, level and day
    taken = await mailbox.take()
    assert [(e.data["unit_code"], e.data["value"], e.id) for e in taken] == [
        ("20336", 5, 2),
        ("20335", 2, 3),
    ]


async def test_a_client_that_keeps_up_is_never_reset_and_a_stalled_one_is() -> None:
    keeping_up, stalled = Mailbox(limit=100), Mailbox(limit=100)
    seen: list[StreamEvent] = []
    for i in range(1, 5001):  # many distinct keys, far more than the limit
        event = _value(f"{i:05d}", i, i)
        keeping_up.put(event)
        stalled.put(event)
        if i % 10 == 0:
            seen.extend(await keeping_up.take())
    assert len(seen) == 5000 and all(e.kind == "indicator" for e in seen)
    held = await stalled.take()  # a reload, then only what came after it: bounded
    assert held[0].kind == "reset" and len(held) <= 101


async def _leaders(engine: AsyncEngine) -> int:
    return await scalar(
        engine,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        f"AND ((classid::bigint << 32) | objid::bigint) = {EVALUATOR_LOCK}",
    )


@contextlib.asynccontextmanager
async def _replica(database_url: str) -> AsyncIterator[tuple[Any, str]]:
    app = create_app(database_url, settings=SETTINGS)
    async with serving(app, log_level="warning") as base:
        await asyncio.wait_for(resources_of(app).hub.listening.wait(), HANG_GUARD)
        yield app, base


async def test_two_replicas_one_evaluator_shared_ids_and_resume_anywhere(
    clean_db: AsyncEngine, database_url: str
) -> None:
    now = datetime.now(UTC)
    params = {"indicator": "health.encounters"}
    async with _replica(database_url) as (one, base_one), _replica(database_url) as (two, base_two):
        apps = (one, two)
        evaluators = [resources_of(a).evaluator for a in apps]
        await wait_for(lambda: any(e.leading.is_set() for e in evaluators), 10, "an evaluator")
        assert [resources_of(a).evaluator.leading.is_set() for a in apps].count(True) == 1
        assert await _leaders(clean_db) == 1
        leader, other = (one, two) if resources_of(one).evaluator.leading.is_set() else (two, one)

        async with (
            httpx.AsyncClient(base_url=base_one, timeout=HANG_GUARD) as c1,
            httpx.AsyncClient(base_url=base_two, timeout=HANG_GUARD) as c2,
            c1.stream("GET", "/api/v1/stream", params=params) as r1,
            c2.stream("GET", "/api/v1/stream", params=params) as r2,
        ):
            s1, s2 = events(r1.aiter_lines()), events(r2.aiter_lines())
            await wait_for(
                lambda: all(resources_of(a).hub.subscriber_count for a in apps),
                HANG_GUARD,
                "clients",
            )
            await ingest(clean_db, [b.encounter(now, 0)])
            first_one = await asyncio.wait_for(next_event(s1, "indicator"), HANG_GUARD)
            first_two = await asyncio.wait_for(next_event(s2, "indicator"), HANG_GUARD)
        assert first_one["id"] == first_two["id"]  # one log, the same ids on every replica
        assert first_one["data"] == first_two["data"]

        # Away from replica one, the wall reconnects to replica two with its last id.
        await ingest(clean_db, [b.encounter(now, 1)])
        newest = int(first_one["id"])
        level = first_one["data"]["level"]
        assert level in {"province", "district", "commune"}

        # The evaluator logs a batch's values a level at a time (communes first): wait for
        # the level the wall was shown, not for the first row of any.
        async def logged() -> bool:
            nonlocal newest
            newest = await scalar(
                clean_db,
                "SELECT coalesce(max(id), 0) FROM stream_event WHERE kind = 'indicator' "
                f"AND indicator = 'health.encounters' AND data->>'level' = '{level}'",
            )
            return newest > int(first_one["id"])

        async with asyncio.timeout(HANG_GUARD):
            while not await logged():  # noqa: ASYNC110 (polls the database)
                await asyncio.sleep(0.05)
        headers = {"Last-Event-ID": first_one["id"]}
        async with (
            httpx.AsyncClient(base_url=base_two, timeout=HANG_GUARD) as c2,
            c2.stream("GET", "/api/v1/stream", params=params, headers=headers) as r2,
        ):
            missed = await asyncio.wait_for(
                next_event(events(r2.aiter_lines()), "indicator"), HANG_GUARD
            )
        assert int(first_one["id"]) < int(missed["id"]) <= newest

        # The evaluator goes away: the other replica takes over.
        await resources_of(leader).hub.stop()
        await wait_for(
            lambda: resources_of(other).evaluator.leading.is_set(), HANG_GUARD, "a takeover"
        )
        assert await _leaders(clean_db) == 1

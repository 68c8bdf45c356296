"""``IOC_PINNED_NOW``: the API reads and judges as of a pinned moment (drills, demos, and the
wall read at 04:00 on the first of a month), while the same data read by the clock is old."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.service import Role, issue_key
from models.clock import LOCAL
from models.settings import Settings
from simulators.runner import collect
from simulators.streams import make_streams
from tests.conftest import ADMIN_API_KEY
from tests.helpers import app_client, write_docs

PIN = datetime(2025, 3, 1, 4, tzinfo=LOCAL)
"""04:00 on the first of a month: the data ends there."""
SCALE = 0.05


async def test_a_pinned_api_answers_as_of_its_moment(
    clean_db: AsyncEngine, database_url: str
) -> None:
    docs = collect(make_streams(11, scale=SCALE), PIN - timedelta(days=8), PIN)
    assert await write_docs(clean_db, docs) == len(docs)
    async with clean_db.begin() as conn:
        _, key = await issue_key(conn, name="wall display", role=Role.WALL)
    headers = {"X-API-Key": key}
    common = {"admin_api_key": ADMIN_API_KEY, "alert_interval_seconds": 0, "volume_scale": SCALE}
    async with (
        app_client(database_url, settings=Settings(**common, pinned_now=PIN)) as pinned,
        app_client(database_url, settings=Settings(**common)) as clocked,
    ):
        # Sources: a clean feed read at its last hour is all fresh; read by the clock (years
        # later) its sources have long fallen silent.
        at_pin = (await pinned.get("/api/v1/sources", headers=headers)).json()
        by_clock = (await clocked.get("/api/v1/sources", headers=headers)).json()
        assert at_pin and {s["status"] for s in at_pin} == {"fresh"}, at_pin[:3]
        owing = [s for s in by_clock if s["cadence"] != "none"]  # event-driven sources owe none
        assert owing and {s["status"] for s in owing} == {"silent"}
        assert sum(s["received_slots"] for s in at_pin) > 0
        assert sum(s["received_slots"] for s in by_clock) == 0  # its default week is empty

        # Values with no 'to' end at the pin: the pin's day is the last, 4 of its 24 hours.
        path = "/api/v1/indicators/health.encounters/values"
        since = {
            "level": "province",
            "bucket": "day",
            "from": (PIN - timedelta(days=2)).isoformat(),
        }
        answer = await pinned.get(path, params=since, headers=headers)
        assert answer.status_code == 200, answer.text
        found = answer.json()
        last = found["values"][-1]
        assert datetime.fromisoformat(last["period_start"]) == PIN.replace(hour=0)
        assert last["partial"] and last["period_covered"] == math.floor(4 / 24 * 10_000) / 10_000
        whole = found["values"][-2]
        assert not whole["partial"] and whole["value"] > 0

        # A ranking with no period ranks the bucket holding the pin.
        ranking = (
            await pinned.get("/api/v1/indicators/health.encounters/ranking", headers=headers)
        ).json()
        assert datetime.fromisoformat(ranking["period_start"]) == PIN.replace(day=1, hour=0)

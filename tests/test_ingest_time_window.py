"""Event times outside the accepted window are refused with a reason, by the writer and the
gateway alike, and nothing a single message does can stop a batch."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.spec import envelope_row
from ingest.tables import EVENT_TABLES
from ingest.validation import Validator
from ingest.writer import RawMessage, Writer
from models.events import HEALTH_ENCOUNTER, EventRejected, TimeWindow, dump_event
from models.partitions import month_partitions, month_start, next_month
from models.settings import Settings
from tests import ingest_builders as b
from tests.helpers import scalar

EXTREME_TIMES = ("9999-12-15T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00")


def _at(doc: dict[str, Any], time: str) -> dict[str, Any]:
    return {**doc, "time": time}


def _messages(docs: list[dict[str, Any]]) -> list[RawMessage]:
    return [RawMessage("t.in", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]


def test_the_window_comes_from_the_settings_and_never_outlives_retention() -> None:
    assert TimeWindow.of(3650, 24).max_age == timedelta(days=3650)
    assert TimeWindow.of(3650, 24, retention_days=400).max_age == timedelta(days=400)
    assert TimeWindow.of(30, 24, retention_days=400).max_age == timedelta(days=30)
    settings = Settings(event_max_age_days=100, event_max_ahead_hours=2, retention_days=50)
    window = Validator.from_settings(settings).window
    assert (window.max_age, window.max_ahead) == (timedelta(days=50), timedelta(hours=2))


@pytest.mark.parametrize("time", EXTREME_TIMES)
def test_times_beyond_the_calendar_are_refused_with_a_clear_reason(time: str) -> None:
    doc = _at(b.encounter(datetime.now(UTC)), time)
    with pytest.raises(EventRejected) as refused:
        Validator().validate(doc)
    assert refused.value.reason == "time_out_of_range"
    assert time[:10] in refused.value.detail
    assert "accepted window" in refused.value.detail


def test_the_window_edges() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    validator = Validator(window=TimeWindow(timedelta(days=10), timedelta(hours=1), lambda: now))
    for inside in (now - timedelta(days=10), now, now + timedelta(hours=1)):
        validator.validate(b.encounter(inside))
    for outside in (now - timedelta(days=10, seconds=1), now + timedelta(hours=1, seconds=1)):
        with pytest.raises(EventRejected, match="time_out_of_range"):
            validator.validate(b.encounter(outside))


@pytest.mark.integration
async def test_far_times_are_rejects_and_the_batch_goes_on(clean_db: AsyncEngine) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    good = [b.encounter(now - timedelta(hours=i), i) for i in range(3)]
    poison = [_at(b.encounter(now), t) for t in EXTREME_TIMES]
    messages = _messages([poison[0], good[0], poison[1], good[1], poison[2], good[2]])
    writer = Writer(clean_db)
    result = await writer.write(messages)
    assert (result.inserted, result.rejected) == (3, {"time_out_of_range": 3})
    again = await writer.write(messages)  # redelivered: still no crash, nothing doubled
    assert (again.inserted, again.duplicates) == (0, 3)
    assert await scalar(clean_db, "SELECT count(*) FROM health_encounter") == 3
    assert await scalar(clean_db, "SELECT count(*) FROM ingest_reject") == 3


def six_hundred_months(now: datetime) -> list[dict[str, Any]]:
    """One event in each of 600 consecutive months, 300 back from now to 299 ahead."""
    first = month_start(now).replace(year=month_start(now).year - 25)
    docs = []
    for i in range(600):
        year, month = divmod(first.month - 1 + i, 12)
        docs.append(b.encounter(datetime(first.year + year, month + 1, 15, 12, tzinfo=UTC), i))
    return docs


def inside_default_window(doc: dict[str, Any], now: datetime) -> bool:
    time = datetime.fromisoformat(str(doc["time"]))
    return now - timedelta(days=3650) <= time <= now + timedelta(hours=24)


async def _partitions(engine: AsyncEngine) -> set[datetime]:
    async with engine.connect() as conn:
        return {start for _, start in await month_partitions(conn, "health_encounter")}


@pytest.mark.integration
async def test_six_hundred_months_make_partitions_only_inside_the_window(
    clean_db: AsyncEngine,
) -> None:
    now = datetime.now(UTC)
    docs = six_hundred_months(now)
    expected = sum(inside_default_window(d, now) for d in docs)
    before = await _partitions(clean_db)
    result = await Writer(clean_db).write(_messages(docs))
    assert result.inserted == expected
    assert result.rejected == {"time_out_of_range": 600 - expected}
    made = await _partitions(clean_db) - before
    earliest = month_start(now - timedelta(days=3650))
    assert all(earliest <= start <= now + timedelta(hours=24) for start in made), sorted(made)
    assert len(made) <= 122


@pytest.mark.integration
async def test_an_event_the_store_refuses_is_isolated_and_the_rest_is_stored(
    clean_db: AsyncEngine,
) -> None:
    """An event that passes validation but that PostgreSQL refuses (here a commune code
    longer than its column) becomes a ``store_refused`` reject; the other events land."""
    now = datetime.now(UTC).replace(microsecond=0)
    docs = [b.encounter(now - timedelta(minutes=i), i) for i in range(9)]
    poisoned = str(docs[5]["id"])

    def to_row(event: Any) -> dict[str, Any]:
        row = envelope_row(event)
        return {**row, "commune_code": "x" * 20} if str(event.envelope.id) == poisoned else row

    spec = EVENT_TABLES[HEALTH_ENCOUNTER.type]
    tables = {**EVENT_TABLES, HEALTH_ENCOUNTER.type: dataclasses.replace(spec, to_row=to_row)}
    writer = Writer(clean_db, tables=tables)
    result = await writer.write(_messages(docs))
    assert (result.inserted, result.rejected) == (8, {"store_refused": 1})
    assert await scalar(clean_db, "SELECT sum(encounters) FROM health_encounter_hourly") == 8
    async with clean_db.connect() as conn:
        reject = (
            await conn.execute(text('SELECT "offset", reason, detail FROM ingest_reject'))
        ).one()
    assert reject[:2] == (5, "store_refused")
    assert "DataError" in reject[2] or "too long" in reject[2]
    again = await writer.write(_messages(docs))  # redelivered: same outcome, nothing doubled
    assert (again.inserted, again.duplicates, again.rejected) == (0, 8, {"store_refused": 1})
    assert await scalar(clean_db, "SELECT count(*) FROM ingest_reject") == 1


GATEWAY_ADMIN = "time-window-admin-key-0123456789"


@pytest.mark.integration
async def test_the_gateway_refuses_the_same_times_and_ingest_stores_the_rest(
    clean_db: AsyncEngine, database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    from tests.helpers import app_client, running_consumer, wait_for

    now = datetime.now(UTC)
    months = six_hundred_months(now)
    extreme = [_at(b.encounter(now), t) for t in EXTREME_TIMES]
    expected = sum(inside_default_window(d, now) for d in months)
    settings = Settings(admin_api_key=GATEWAY_ADMIN, topic_prefix=topic_prefix)
    async with app_client(database_url, kafka_bootstrap, settings) as client:
        headers = {"X-API-Key": GATEWAY_ADMIN}
        response = await client.post("/api/v1/events", json=extreme, headers=headers)
        assert response.status_code == 200, response.text
        verdicts = response.json()["results"]
        assert [v["reason"] for v in verdicts] == ["time_out_of_range"] * 3
        assert all("accepted window" in v["detail"] for v in verdicts)

        response = await client.post("/api/v1/events", json=months, headers=headers)
        assert response.status_code == 200, response.text
        verdict = response.json()
        assert (verdict["accepted"], verdict["rejected"]) == (expected, 600 - expected)
        refused = {v["reason"] for v in verdict["results"] if v["status"] == "rejected"}
        assert refused == {"time_out_of_range"}

    before = await _partitions(clean_db)
    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await wait_for(lambda: seen.inserted >= expected, what="the accepted events stored")
    assert seen.rejected == 0
    assert await scalar(clean_db, "SELECT count(*) FROM health_encounter") == expected
    made = await _partitions(clean_db) - before
    ahead = next_month(month_start(now))  # the worker's maintenance keeps next month ready
    assert all(month_start(now - timedelta(days=3650)) <= start <= ahead for start in made)

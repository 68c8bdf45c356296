"""End to end through the real broker and PostgreSQL: exactly N, and N again after a replay."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from simulators.health import HealthEncounterStream
from simulators.runner import collect
from simulators.sinks import KafkaSink
from tests.helpers import app_client, running_consumer, scalar, wait_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # a Monday, 08:00 in Quảng Nam
END = datetime(2025, 3, 3, 4, 0, tzinfo=UTC)


async def _api_total(database_url: str, level: str) -> tuple[float, int]:
    async with app_client(database_url) as client:
        response = await client.get(
            "/api/v1/indicators/health.encounters/values",
            params={
                "level": level,
                "bucket": "hour",
                "from": START.isoformat(),
                "to": END.isoformat(),
            },
        )
    assert response.status_code == 200, response.text
    values = response.json()["values"]
    return sum(v["value"] for v in values), len({v["unit_code"] for v in values})


async def test_events_land_exactly_once_even_when_sent_twice(
    clean_db: AsyncEngine, kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    events = collect([HealthEncounterStream(seed=11)], START, END)
    n = len(events)
    assert n > 500  # a weekday morning in the whole province

    sink = KafkaSink(kafka_bootstrap, topic_prefix)
    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await sink.send(events)
        await wait_for(lambda: seen.consumed >= n, what=f"{n} events consumed")
        assert seen.inserted == n

        replay = events[:]
        random.Random(3).shuffle(replay)  # the replay also arrives out of order
        await sink.send(replay)
        await wait_for(lambda: seen.consumed >= 2 * n, what="the replay consumed")
    await sink.close()

    assert seen.inserted == n
    assert seen.duplicates == n
    assert await scalar(clean_db, "SELECT count(*) FROM health_encounter") == n
    assert await scalar(clean_db, "SELECT sum(encounters) FROM health_encounter_hourly") == n
    assert await scalar(clean_db, "SELECT count(*) FROM ingest_reject") == 0

    province_total, province_units = await _api_total(database_url, "province")
    district_total, district_units = await _api_total(database_url, "district")
    assert (province_total, province_units) == (n, 1)
    assert district_total == n
    assert district_units == 17

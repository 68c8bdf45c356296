"""An event is identified by ``(source, id)`` whatever its ``time`` (CloudEvents): resent
with another time it is stored and counted once, by the writer, through Kafka redelivery
and through the HTTP gateway."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.writer import RawMessage, Writer
from models.events import dump_event
from simulators.sinks import KafkaSink
from tests import ingest_builders as b
from tests.helpers import crash_after_first_commit, running_consumer, scalar, wait_for

pytestmark = pytest.mark.integration

Doc = dict[str, Any]


def retimed(doc: Doc, *shifts: timedelta) -> list[Doc]:
    """The event, then copies with only their time changed."""
    at = datetime.fromisoformat(str(doc["time"]))
    return [doc] + [{**doc, "time": (at + shift).isoformat()} for shift in shifts]


def messages(docs: Sequence[Doc], first_offset: int = 0) -> list[RawMessage]:
    return [
        RawMessage("t.in", 0, first_offset + i, None, dump_event(d)) for i, d in enumerate(docs)
    ]


async def counted(engine: AsyncEngine) -> tuple[int, int, int, int]:
    """Rows, the hourly roll-up's count, and the data-quality tables' counts."""
    return (
        await scalar(engine, "SELECT count(*) FROM health_encounter"),
        await scalar(engine, "SELECT coalesce(sum(encounters), 0) FROM health_encounter_hourly"),
        await scalar(engine, "SELECT coalesce(sum(events), 0) FROM source_hourly"),
        await scalar(engine, "SELECT coalesce(sum(events), 0) FROM source_freshness"),
    )


async def test_one_event_resent_with_other_times_is_stored_and_counted_once(
    clean_db: AsyncEngine,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    # hours, days and a month apart: another hour bucket, another partition
    copies = retimed(b.encounter(now - timedelta(days=40)), timedelta(hours=3), timedelta(days=35))
    writer = Writer(clean_db)
    results = [await writer.write(messages([doc], i)) for i, doc in enumerate(copies)]
    assert [(r.inserted, r.duplicates) for r in results] == [(1, 0), (0, 1), (0, 1)]
    assert await counted(clean_db) == (1, 1, 1, 1)
    assert await scalar(clean_db, "SELECT count(*) FROM event_key") == 1


async def test_copies_with_other_times_in_one_batch_count_once_and_the_first_wins(
    clean_db: AsyncEngine,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    first = b.encounter(now - timedelta(hours=5))
    other = b.encounter(now - timedelta(hours=1), 1)
    batch = [*retimed(first, timedelta(hours=2), timedelta(minutes=-30)), other, other]
    result = await Writer(clean_db).write(messages(batch))
    assert (result.inserted, result.duplicates) == (2, 3)
    assert await counted(clean_db) == (2, 2, 2, 2)
    assert (
        await scalar(
            clean_db,
            f"SELECT count(*) FROM health_encounter WHERE event_id = '{first['id']}' "
            f"AND occurred_at = '{first['time']}'",
        )
        == 1
    )


async def test_the_key_is_the_source_and_the_id_together(clean_db: AsyncEngine) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    doc = b.encounter(now, source="his/TTYT-502")
    elsewhere = {**doc, "source": "his/TTYT-503"}
    result = await Writer(clean_db).write(messages([doc, elsewhere]))
    assert result.inserted == 2


async def test_a_resent_dossier_step_with_another_time_moves_nothing(
    clean_db: AsyncEngine,
) -> None:
    received = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    step = b.dossier("D-5", "completed", received + timedelta(days=1), received)
    writer = Writer(clean_db)
    await writer.write(messages([b.dossier("D-5", "received", received, received), step]))
    again = await writer.write(messages(retimed(step, timedelta(days=1)), 2))
    assert again.inserted == 0
    assert await scalar(clean_db, "SELECT sum(dossiers) FROM public_service_dossier_hourly") == 2
    assert (
        await scalar(
            clean_db,
            f"SELECT count(*) FROM public_service_dossier WHERE completed_at = '{step['time']}'",
        )
        == 1
    )


async def test_kafka_redelivery_of_retimed_copies_stores_each_event_once(
    clean_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    originals = [b.encounter(now - timedelta(hours=2, minutes=i), i) for i in range(100)]
    sent = [c for d in originals for c in retimed(d, timedelta(hours=1), timedelta(days=-2))]
    sink = KafkaSink(kafka_bootstrap, topic_prefix)
    await sink.send(sent)
    await sink.close()
    group = f"{topic_prefix}-ingest"
    await crash_after_first_commit(clean_db, kafka_bootstrap, topic_prefix, group, 70)
    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix, group) as seen:
        await wait_for(lambda: seen.consumed >= len(sent) - 70, what="the restart")
        await wait_for(lambda: seen.inserted + seen.duplicates >= seen.consumed)
    assert await counted(clean_db) == (100, 100, 100, 100)


async def test_through_the_gateway_one_event_posted_three_times_counts_once(
    clean_db: AsyncEngine, database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    from models.settings import Settings
    from tests.helpers import app_client

    key = "dedupe-test-admin-key-0123456789"
    now = datetime.now(UTC).replace(microsecond=0)
    copies = retimed(b.encounter(now - timedelta(hours=3)), timedelta(hours=1), timedelta(days=-1))
    settings = Settings(admin_api_key=key, topic_prefix=topic_prefix)
    async with app_client(database_url, kafka_bootstrap, settings) as client:
        for doc in copies:
            response = await client.post("/api/v1/events", json=[doc], headers={"X-API-Key": key})
            assert response.json()["accepted"] == 1, response.text
    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await wait_for(lambda: seen.inserted + seen.duplicates >= 3, what="the three copies")
    assert (seen.inserted, seen.duplicates) == (1, 2)
    assert await counted(clean_db) == (1, 1, 1, 1)


async def test_keys_go_with_their_events_at_retention(clean_db: AsyncEngine) -> None:
    from ingest.maintenance import maintain

    now = datetime.now(UTC).replace(microsecond=0)
    old, recent = b.encounter(now - timedelta(days=400)), b.encounter(now - timedelta(days=1))
    await Writer(clean_db).write(messages([old, recent]))
    report = await maintain(clean_db, now=now, retention_days=30)
    assert report.keys_dropped == 1
    assert await scalar(clean_db, "SELECT count(*) FROM event_key") == 1
    assert await scalar(clean_db, "SELECT count(*) FROM health_encounter") == 1

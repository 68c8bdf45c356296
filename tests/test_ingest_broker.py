"""Ingest through the real broker: every stream exactly once, dead letters, crash recovery."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models.events import HEALTH_ENCOUNTER, dump_event
from simulators.sinks import KafkaSink
from tests import ingest_builders as b
from tests.helpers import (
    crash_after_first_commit,
    dead_letters,
    running_consumer,
    scalar,
    send_raw,
    wait_for,
)

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def every_stream(n: int) -> list[dict[str, object]]:
    """``n`` events of each counter and gauge, and lifecycles of ``n`` dossiers and reports."""
    docs: list[dict[str, object]] = []
    for i in range(n):
        at = T0 + timedelta(minutes=13 * i)
        docs += [
            b.encounter(at, i),
            b.claim(at, i),
            b.arrival(at, i),
            b.feedback(at, i),
            b.school_report(at, i),
            b.bed_census(at, 100 + i),
            b.attendance(at, 30 + i % 10),
        ]
        received = at - timedelta(days=1)
        docs += [
            b.dossier(f"D-{i}", "received", received, received),
            b.dossier(f"D-{i}", "completed", at, received),
            b.report(f"R-{i}", "received", received, received),
            b.report(f"R-{i}", "resolved", at, received),
        ]
    return docs


async def test_every_stream_lands_exactly_once_when_sent_twice_out_of_order(
    clean_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    n = 40
    docs = every_stream(n)
    sink = KafkaSink(kafka_bootstrap, topic_prefix)
    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await sink.send(docs)
        await wait_for(lambda: seen.consumed >= len(docs), what="every event consumed")
        replay = docs[:]
        random.Random(7).shuffle(replay)
        await sink.send(replay)
        await wait_for(lambda: seen.consumed >= 2 * len(docs), what="the replay consumed")
    await sink.close()

    assert (seen.inserted, seen.duplicates, seen.rejected) == (len(docs), len(docs), 0)
    expected = {
        "SELECT count(*) FROM health_encounter": n,
        "SELECT sum(encounters) FROM health_encounter_hourly": n,
        "SELECT sum(encounters) FROM health_encounter_diagnosis_hourly": n,
        "SELECT sum(wait_minutes_sum) FROM health_encounter_hourly": sum(
            10 + i % 30 for i in range(n)
        ),
        "SELECT count(*) FROM health_claim": n,
        "SELECT sum(claims) FROM health_claim_hourly": n,
        "SELECT count(*) FROM tourism_arrival": n,
        "SELECT sum(visitors_sum) FROM tourism_arrival_hourly": sum(1 + i % 4 for i in range(n)),
        "SELECT sum(feedback) FROM tourism_feedback_hourly": n,
        "SELECT sum(reports) FROM education_report_hourly": n,
        "SELECT count(*) FROM health_bed_census": n,
        "SELECT sum(readings) FROM health_bed_census_hourly": n,
        "SELECT sum(beds_occupied_sum) FROM health_bed_census_hourly": sum(
            100 + i for i in range(n)
        ),
        "SELECT sum(present_sum) FROM education_attendance_hourly": sum(
            30 + i % 10 for i in range(n)
        ),
        "SELECT count(*) FROM public_service_dossier_event": 2 * n,
        "SELECT count(*) FROM public_service_dossier WHERE stage = 'completed'": n,
        "SELECT sum(dossiers) FROM public_service_dossier_hourly": 2 * n,
        "SELECT count(*) FROM citizen_report WHERE stage = 'resolved'": n,
        "SELECT sum(reports) FROM citizen_report_hourly": 2 * n,
        "SELECT sum(events) FROM source_hourly": len(docs),
        "SELECT sum(events) FROM source_freshness": len(docs),
        "SELECT count(*) FROM ingest_reject": 0,
    }
    actual = {sql: await scalar(clean_db, sql) for sql in expected}
    assert actual == expected


async def test_rejects_go_to_the_dead_letter_topic_too(
    clean_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    good = b.encounter(T0)
    bad = [b"{not json", dump_event({**good, "source": "his/NOT-REGISTERED"})]
    topic = HEALTH_ENCOUNTER.topic(topic_prefix)
    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await send_raw(kafka_bootstrap, topic, [(raw, ()) for raw in [*bad, dump_event(good)]])
        await wait_for(lambda: seen.consumed >= 3, what="three messages consumed")
    assert (seen.inserted, seen.rejected) == (1, 2)

    records = await dead_letters(kafka_bootstrap, topic_prefix, 2)
    assert sorted(r.value for r in records) == sorted(bad)
    reasons = {dict(r.headers)["ioc-reject-reason"] for r in records}
    assert reasons == {b"bad_json", b"unknown_source"}
    assert {dict(r.headers)["ioc-source-topic"] for r in records} == {topic.encode()}
    assert await scalar(clean_db, "SELECT count(*) FROM ingest_reject") == 2


async def test_a_crash_between_db_commit_and_offset_commit_loses_and_doubles_nothing(
    clean_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    docs = [b.encounter(T0 + timedelta(seconds=i), i) for i in range(300)]
    sink = KafkaSink(kafka_bootstrap, topic_prefix)
    await sink.send(docs)
    await sink.close()
    group = f"{topic_prefix}-ingest"

    stored = await crash_after_first_commit(clean_db, kafka_bootstrap, topic_prefix, group, 50)
    assert 0 < stored <= 50
    assert await scalar(clean_db, "SELECT count(*) FROM health_encounter") == stored

    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix, group) as seen:
        await wait_for(lambda: seen.inserted + seen.duplicates >= len(docs), what="the restart")
    assert seen.duplicates == stored  # the uncommitted batch came again
    assert seen.inserted == len(docs) - stored
    assert await scalar(clean_db, "SELECT count(*) FROM health_encounter") == len(docs)
    assert await scalar(clean_db, "SELECT sum(encounters) FROM health_encounter_hourly") == len(
        docs
    )

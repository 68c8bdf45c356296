"""The writer on a real PostgreSQL: late data, lifecycle order, gauges, rejects, notices."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import orjson
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.maintenance import maintain
from ingest.writer import BatchResult, RawMessage, Writer
from models.events import MAX_EVENT_BYTES, dump_event
from models.notify import CHANNEL, ChangeNotice
from models.partitions import ensure_month_partitions, is_partitioned, month_partitions
from tests import ingest_builders as b
from tests.helpers import scalar

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 3, 2, 15, tzinfo=UTC)


async def write(engine: AsyncEngine, docs: Sequence[dict[str, object]]) -> BatchResult:
    messages = [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    return await Writer(engine).write(messages)


async def rows(engine: AsyncEngine, sql: str) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def test_a_late_event_lands_in_its_own_hour(clean_db: AsyncEngine) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    late = now - timedelta(days=3)
    await write(clean_db, [b.encounter(now, i) for i in range(5)])
    result = await write(clean_db, [b.encounter(late, 1)])
    assert result.inserted == 1

    buckets = await rows(
        clean_db, "SELECT bucket_start, sum(encounters) FROM health_encounter_hourly GROUP BY 1"
    )
    hour = now.replace(minute=0, second=0)
    assert sorted(buckets) == [(hour - timedelta(days=3), 1), (hour, 5)]
    assert result.notice is not None
    assert result.notice.first_bucket == hour - timedelta(days=3)
    # three days late is not timely, and the source's freshness keeps its newest event
    assert await scalar(clean_db, "SELECT sum(within_1h) FROM source_hourly") == 5
    last_event = await rows(clean_db, "SELECT last_event_at, events FROM source_freshness")
    assert last_event == [(now, 6)]


async def test_counters_add_up_and_replays_change_nothing(clean_db: AsyncEngine) -> None:
    docs = [b.claim(T0 + timedelta(minutes=7 * i), i) for i in range(30)]
    docs += [b.arrival(T0 + timedelta(minutes=5 * i), i) for i in range(30)]
    docs += [b.feedback(T0 + timedelta(minutes=3 * i), i) for i in range(30)]
    docs += [b.school_report(T0 + timedelta(minutes=11 * i), i) for i in range(10)]
    first = await write(clean_db, docs)
    replay = docs[:]
    random.Random(5).shuffle(replay)
    second = await write(clean_db, replay)
    assert (first.inserted, first.duplicates) == (100, 0)
    assert (second.inserted, second.duplicates) == (0, 100)

    assert await scalar(clean_db, "SELECT sum(claims) FROM health_claim_hourly") == 30
    assert await scalar(clean_db, "SELECT sum(amount_vnd_sum) FROM health_claim_hourly") == sum(
        50_000 * (i + 1) for i in range(30)
    )
    assert await scalar(clean_db, "SELECT sum(everified) FROM health_claim_hourly") == 20
    visitors = sum(1 + i % 4 for i in range(30))
    nights = sum((1 + i % 4) * 2 for i in range(0, 30, 2))
    assert (
        await scalar(clean_db, "SELECT sum(visitors_sum) FROM tourism_arrival_hourly") == visitors
    )
    assert (
        await scalar(clean_db, "SELECT sum(guest_nights_sum) FROM tourism_arrival_hourly") == nights
    )
    feedback = await rows(
        clean_db, "SELECT sum(feedback), sum(negative), sum(rated) FROM tourism_feedback_hourly"
    )
    assert feedback == [(30, 10, 15)]
    reports = await rows(
        clean_db, "SELECT sum(reports), sum(reports_on_time) FROM education_report_hourly"
    )
    assert reports == [(10, 5)]


async def test_gauges_average_and_keep_the_latest_reading(clean_db: AsyncEngine) -> None:
    readings = [(T0 + timedelta(minutes=m), occupied) for m, occupied in ((40, 150), (5, 120))]
    await write(clean_db, [b.bed_census(at, occupied) for at, occupied in readings])
    await write(clean_db, [b.bed_census(T0 + timedelta(minutes=20), 130)])  # late, not latest
    await write(clean_db, [b.attendance(T0, 35), b.attendance(T0 + timedelta(minutes=1), 38)])

    census = await rows(
        clean_db,
        "SELECT readings, beds_occupied_sum, beds_total_sum, latest_beds_occupied, latest_at"
        " FROM health_bed_census_hourly",
    )
    assert census == [(3, 400, 600, 150, T0 + timedelta(minutes=40))]
    attendance = await rows(
        clean_db,
        "SELECT readings, present_sum, enrolled_sum, latest_present"
        " FROM education_attendance_hourly",
    )
    assert attendance == [(2, 73, 80, 38)]


async def test_a_late_earlier_step_never_rolls_a_dossier_back(clean_db: AsyncEngine) -> None:
    received = T0
    steps = {
        stage: b.dossier("D-1", stage, received + timedelta(days=days), received)
        for stage, days in (
            ("received", 0),
            ("supplement_requested", 1),
            ("supplement_received", 2),
            ("completed", 4),
            ("rated", 5),
        )
    }
    await write(clean_db, [steps["rated"]])
    await write(clean_db, [steps["completed"], steps["received"]])
    await write(clean_db, [steps["supplement_received"], steps["supplement_requested"]])
    await write(clean_db, list(steps.values()))  # a replay of everything: no effect

    state = await rows(
        clean_db,
        "SELECT stage, stage_at, completed_at, on_time, e_result, rating, supplements,"
        " supplement_days, supplement_requested_at FROM public_service_dossier",
    )
    assert state == [
        (
            "rated",
            received + timedelta(days=5),
            received + timedelta(days=4),
            True,
            True,
            "satisfied",
            1,
            2.0,
            received + timedelta(days=1),
        )
    ]
    assert await scalar(clean_db, "SELECT count(*) FROM public_service_dossier_event") == 5
    transitions = await rows(
        clean_db,
        "SELECT stage, sum(dossiers), sum(on_time), sum(elapsed_days_sum)"
        " FROM public_service_dossier_hourly GROUP BY stage ORDER BY stage",
    )
    assert transitions == [
        ("completed", 1, 1, 4.0),
        ("rated", 1, 0, 0.0),
        ("received", 1, 0, 0.0),
        ("supplement_received", 1, 0, 0.0),
        ("supplement_requested", 1, 0, 0.0),
    ]


async def test_citizen_report_state_follows_event_time(clean_db: AsyncEngine) -> None:
    received = T0
    resolved = b.report("R-1", "resolved", received + timedelta(days=20), received)
    assigned = b.report("R-1", "assigned", received + timedelta(hours=2), received)
    await write(clean_db, [resolved, b.report("R-1", "received", received, received)])
    await write(clean_db, [assigned])
    state = await rows(clean_db, "SELECT stage, assigned_at, resolved_on_time FROM citizen_report")
    assert state == [("resolved", received + timedelta(hours=2), False)]
    hourly = await rows(
        clean_db, "SELECT sum(late), sum(handling_hours_sum) FROM citizen_report_hourly"
    )
    assert hourly == [(1, 480.0)]


async def test_every_reject_reason_is_kept_with_its_bytes(clean_db: AsyncEngine) -> None:
    good = b.encounter(T0)
    bad = {
        "too_large": b"{" + b" " * MAX_EVENT_BYTES + b"}",
        "bad_json": b"{not json",
        "schema": dump_event({**good, "specversion": "0.3"}),
        "unknown_type": dump_event({**good, "type": "vn.gov.quangnam.health.unknown"}),
        "unknown_unit": dump_event({**good, "subject": "99999"}),
        "unknown_source": dump_event({**good, "source": "his/NOT-REGISTERED"}),
    }
    messages = [RawMessage("t.in", 2, i, b"k", raw) for i, raw in enumerate(bad.values())]
    messages.append(RawMessage("t.in", 2, 99, b"k", dump_event(good)))
    writer = Writer(clean_db)
    result = await writer.write(messages)
    assert result.inserted == 1
    assert result.rejected == dict.fromkeys(bad, 1)
    await writer.write(messages)  # redelivered after a crash: recorded once

    stored = await rows(
        clean_db, 'SELECT reason, raw, topic, partition, "offset" FROM ingest_reject'
    )
    assert sorted(stored) == sorted(
        (reason, raw, "t.in", 2, i) for i, (reason, raw) in enumerate(bad.items())
    )


async def test_the_change_notice_is_sent_on_commit(
    clean_db: AsyncEngine, database_url: str
) -> None:
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as listener:
        await listener.execute(f"LISTEN {CHANNEL}")
        docs = [b.encounter(T0, 1), b.dossier("D-9", "received", T0, T0)]
        result = await write(clean_db, docs)
        notices = [n async for n in listener.notifies(timeout=5, stop_after=1)]
    assert len(notices) == 1
    assert len(notices[0].payload.encode()) < 8000
    notice = ChangeNotice.model_validate(orjson.loads(notices[0].payload))
    assert notice == result.notice
    assert "health_encounter_hourly" in notice.rollups
    assert "public_service_dossier" in notice.rollups
    assert notice.first_bucket == notice.last_bucket == T0.replace(minute=0)
    assert notice.communes == sorted({d["subject"] for d in docs})  # type: ignore[type-var]


async def test_retention_drops_old_months_and_keeps_the_next_one_ready(
    clean_db: AsyncEngine,
) -> None:
    now = datetime(2031, 6, 15, tzinfo=UTC)
    old = [datetime(2030, m, 1, tzinfo=UTC) for m in (1, 2)]
    async with clean_db.begin() as conn:
        if not await is_partitioned(conn, "tourism_arrival"):
            pytest.skip("native partitions only; TimescaleDB chunks: tests/test_timescale.py")
        await ensure_month_partitions(conn, "tourism_arrival", old)
    report = await maintain(clean_db, now=now, retention_days=365)
    assert {"tourism_arrival_y2030m01", "tourism_arrival_y2030m02"} <= set(report.dropped)
    async with clean_db.connect() as conn:
        months = {start for _, start in await month_partitions(conn, "tourism_arrival")}
    assert datetime(2031, 6, 1, tzinfo=UTC) in months
    assert datetime(2031, 7, 1, tzinfo=UTC) in months
    assert not months & set(old)


async def test_a_nul_character_is_refused_instead_of_failing_the_batch(
    clean_db: AsyncEngine,
) -> None:
    good = b.encounter(T0)
    poison = {**b.encounter(T0), "data": {**good["data"], "icd_chapter": "I\u0000"}}
    result = await write(clean_db, [poison, good])
    assert (result.inserted, result.rejected) == (1, {"schema": 1})
    detail = await rows(clean_db, "SELECT detail FROM ingest_reject")
    assert detail == [("a string contains the NUL character",)]

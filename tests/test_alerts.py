"""Alert rules as data: a breach opens one alert, an operator acknowledges it, recovery resolves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.alerts import service
from app.alerts.service import robust_z
from ingest.writer import RawMessage, Writer
from models.alert_rules import BY_RULE
from models.events import dump_event
from models.units import legacy_units
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)  # a Monday, 08:00 in Quảng Nam
SOURCE = b.source_for(b.ev.HEALTH_ENCOUNTER)


def district_of(commune: str) -> str:
    return next(str(u.parent_code) for u in legacy_units() if u.code == commune)


DISTRICT = district_of(SOURCE.commune_code)


async def ingest(engine: AsyncEngine, docs: list[dict[str, Any]]) -> None:
    messages = [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    assert (await Writer(engine).write(messages)).inserted == len(docs)


async def evaluate(engine: AsyncEngine, rule: str, as_of: datetime) -> Any:
    async with engine.begin() as conn:
        return await service.evaluate(conn, as_of, rules=(BY_RULE[rule],), volume_scale=1.0)


def test_robust_z_ignores_one_outlier_in_the_baseline() -> None:
    assert robust_z(10, [10, 10, 10, 10]) is None  # no spread, no verdict
    steady = robust_z(40, [20, 21, 22, 20, 23, 21, 22, 500])
    assert steady is not None and steady > 3.5


def outpatients(start: datetime, n: int) -> list[dict[str, Any]]:
    return [
        {**b.encounter(start + timedelta(minutes=i), 3 * i), "id": str(uuid.uuid4())}
        for i in range(n)
    ]


async def test_threshold_alert_lifecycle(api: AsyncClient, clean_db: AsyncEngine) -> None:
    rule = "health.emergency_share_high"
    # The same hours a week earlier: outpatients only. Now every third is an emergency:
    # 33% against a usual 0%.
    await ingest(clean_db, outpatients(T0 - timedelta(weeks=1), 60))
    await ingest(clean_db, [b.encounter(T0 + timedelta(minutes=5 * i), i) for i in range(30)])
    as_of = T0 + timedelta(hours=6)
    first = await evaluate(clean_db, rule, as_of)
    assert [(a.unit_code, a.status, a.value, a.threshold) for a in first.opened] == [
        (DISTRICT, "open", 33.33, 0.0)
    ]
    again = await evaluate(clean_db, rule, as_of)
    assert again.opened == [] and again.resolved == []  # one open alert per rule and unit
    opened = first.opened[0]
    assert opened.unit_name in opened.message and "33,33%" in opened.message  # Vietnamese
    assert opened.message == opened.message_vi and "tuần trước" in opened.message_vi
    assert "33.33%" in opened.message_en and opened.unit_name in opened.message_en

    alert_id = first.opened[0].id
    listed = (await api.get("/api/v1/alerts", headers={"X-API-Key": ADMIN_API_KEY})).json()
    assert [a["id"] for a in listed] == [alert_id]
    assert (await api.post(f"/api/v1/alerts/{alert_id}/ack")).status_code == 401

    key = (
        await api.post(
            "/api/v1/auth/keys",
            json={"name": "duty officer", "role": "operator"},
            headers={"X-API-Key": ADMIN_API_KEY},
        )
    ).json()["key"]
    operator = {"X-API-Key": key}
    acked = (await api.post(f"/api/v1/alerts/{alert_id}/ack", headers=operator)).json()
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "duty officer"
    twice = await api.post(f"/api/v1/alerts/{alert_id}/ack", headers=operator)
    assert twice.status_code == 200 and twice.json()["acknowledged_at"] == acked["acknowledged_at"]

    # Sixty outpatient visits later the share is 11%: under the threshold, not yet back
    # under the clear mark (8 points over usual). It stays open, showing the current value.
    await ingest(clean_db, outpatients(T0, 60))
    wavering = await evaluate(clean_db, rule, as_of)
    assert wavering.opened == [] and wavering.resolved == []
    shown = (await api.get(f"/api/v1/alerts/{alert_id}?lang=en", headers=operator)).json()
    assert shown["value"] == 11.11 and "11.11%" in shown["message"]
    assert "11,11%" in shown["message_vi"]
    # Sixty more: 6.67%, back past the clear mark: the evaluator resolves the alert.
    await ingest(clean_db, outpatients(T0 + timedelta(hours=1), 60))
    after = await evaluate(clean_db, rule, as_of)
    assert [(a.id, a.status) for a in after.resolved] == [(alert_id, "resolved")]
    late_ack = await api.post(f"/api/v1/alerts/{alert_id}/ack", headers=operator)
    assert late_ack.status_code == 409 and "resolved" in late_ack.json()["detail"]
    missing = await api.get("/api/v1/alerts/999999", headers=operator)
    assert missing.status_code == 404


async def test_anomaly_rule_flags_a_spike_against_earlier_weeks(clean_db: AsyncEngine) -> None:
    latest = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)  # Monday
    docs = []
    for week, count in enumerate((21, 20, 22, 21, 23, 20, 22, 24), start=1):
        day = latest - timedelta(weeks=week)
        docs += [b.encounter(day + timedelta(minutes=i), i) for i in range(count)]
    docs += [b.encounter(latest + timedelta(minutes=i), i) for i in range(80)]
    await ingest(clean_db, docs)

    result = await evaluate(clean_db, "health.encounters_spike", latest + timedelta(days=1))
    # The data starts at 09:00 on the earliest Monday: that day is not covered whole, so the
    # usual level is the median of the seven later Mondays (21), not of eight (21.5).
    assert [(a.unit_code, a.value, a.threshold) for a in result.opened] == [(DISTRICT, 80, 21)]
    assert "thường lệ 21." in result.opened[0].message
    quiet = await evaluate(clean_db, "health.encounters_spike", latest + timedelta(days=8))
    assert quiet.opened == []


async def test_opening_stays_idempotent_once_the_statement_is_prepared(
    clean_db: AsyncEngine,
) -> None:
    """psycopg prepares a statement after 5 runs; the partial-index conflict must still match."""
    from sqlalchemy import text

    from app.alerts import repository

    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE alert"))
        for i in range(12):
            draft = repository.AlertDraft(
                rule_code="r", kind="threshold", indicator_code="health.encounters",
                unit_code=str(i % 3), severity="info", period_start=T0, value=1.0, threshold=0.0,
            )  # fmt: skip
            row = await repository.open_alert(conn, draft, "m")
            assert (row is not None) == (i < 3)


async def test_a_usual_high_share_at_night_is_no_alarm(clean_db: AsyncEngine) -> None:
    """At night only emergency departments are open: a high share is what those hours are."""
    night = datetime(2025, 6, 1, 16, 0, tzinfo=UTC)  # 23:00 in Quảng Nam
    for weeks in range(5):
        start = night - timedelta(weeks=weeks)
        await ingest(clean_db, [
            {**b.encounter(start + timedelta(minutes=5 * i), 2), "id": str(uuid.uuid4())}
            for i in range(40)
        ])  # fmt: skip
    result = await evaluate(clean_db, "health.emergency_share_high", night + timedelta(hours=6))
    assert result.opened == []


async def test_no_alert_on_hours_still_arriving(clean_db: AsyncEngine) -> None:
    """A backfill catching up: its hours are not judged until the stream has reached them,
    and a sparse type written at the same time (one old event) does not hold them back."""
    now = datetime.now(UTC)
    front = (now - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    # Encounters (12 an hour) from 9 hours before the front, a gap in the 3 hours before
    # it (the feed was down then), and the front hour written up to minute 30.
    hours = [front - timedelta(hours=h) for h in range(9, 3, -1)] + [front]
    await ingest(clean_db, [
        {**b.encounter(hour + timedelta(minutes=m), m), "id": str(uuid.uuid4())}
        for hour in hours for m in range(0, 31 if hour == front else 60, 5)
    ] + [b.feedback(front - timedelta(hours=20))])  # fmt: skip
    async with clean_db.begin() as conn:
        settled = await service.settled_until(conn, now)
    assert settled == front + timedelta(minutes=30)  # the encounters' newest event
    rule = BY_RULE["data.completeness_low"].model_copy(update={"min_denominator": 1})
    async with clean_db.begin() as conn:
        result = await service.evaluate(conn, now, rules=(rule,), volume_scale=1.0)
    # Only the three hours before the stream's front are judged (the hospital's slots in
    # the gap are missing, and the tourist site's if it owes any at that hour), not the
    # last three hours, which the worker has not reached; and only the sources it has
    # read: the other hospitals' partitions may not have been read yet.
    seen = {DISTRICT, district_of(b.source_for(b.ev.TOURISM_FEEDBACK).commune_code)}
    assert DISTRICT in {a.unit_code for a in result.opened}
    assert {a.unit_code for a in result.opened} <= seen
    assert {(a.period_start, a.value) for a in result.opened} == {(front - timedelta(hours=3), 0)}


async def test_a_source_never_seen_is_a_feed_down_once_nothing_is_catching_up(
    clean_db: AsyncEngine,
) -> None:
    """Caught up, a hospital that has sent nothing since the data began is an outage (while
    catching up it owes nothing: the test above)."""
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE alert"))  # earlier tests' open alerts stay open
    now = datetime.now(UTC)
    first = (now - timedelta(hours=9)).replace(minute=0, second=0, microsecond=0)
    await ingest(clean_db, [
        {**b.encounter(first + timedelta(minutes=m), m), "id": str(uuid.uuid4())}
        for m in range(0, int((now - first) / timedelta(minutes=1)) - 10, 5)
    ])  # fmt: skip
    rule = BY_RULE["data.completeness_low"].model_copy(update={"min_denominator": 1})
    async with clean_db.begin() as conn:
        result = await service.evaluate(conn, now, rules=(rule,), volume_scale=1.0)
    others = {(a.unit_code, a.value) for a in result.opened if a.unit_code != DISTRICT}
    assert others and {value for _, value in others} == {0}


def test_a_share_swing_within_chance_is_no_breach() -> None:
    """Dawn windows of a small district on a fault-free simulated feed: 23 of 35 against a
    usual 18 of 36 is 15 points over, but chance gives that (z ≈ 1.3); 10 of 30 against
    none of 60 does not."""
    assert abs(service.two_proportion_z(23, 35, 18, 36) - 1.3) < 0.1
    assert service.two_proportion_z(10, 30, 0, 60) > 4
    assert service.two_proportion_z(0, 30, 0, 60) == 0

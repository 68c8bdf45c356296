"""Lifecycle indicators: carried-over and overdue dossiers, processing time in working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import Date, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from app.indicators.lifecycles import _working_days_through
from app.indicators.metrics import holidays_between
from app.kit.buckets import LOCAL, Bucket
from ingest.writer import RawMessage, Writer
from models.calendar import working_days_between
from models.events import dump_event
from tests import ingest_builders as b

pytestmark = pytest.mark.integration

HOUR = timedelta(hours=1)
RECEIVED = datetime(2025, 1, 24, 8, 0, tzinfo=LOCAL)  # the Friday before the Tết 2025 break
DONE = datetime(2025, 2, 4, 15, 0, tzinfo=LOCAL)  # the Tuesday after it


async def ingest(engine: AsyncEngine, docs: list[dict[str, Any]]) -> None:
    messages = [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    assert (await Writer(engine).write(messages)).inserted == len(docs)


async def day_values(api: AsyncClient, code: str) -> dict[str, Any]:
    params = {"from": "2025-01-24T00:00:00+07:00", "to": "2025-02-05T00:00:00+07:00"}
    values = (await api.get(f"/api/v1/indicators/{code}/values", params=params)).json()
    return {v["period_start"][:10]: v for v in values["values"] if v["denominator"] is not None}


async def test_overdue_counts_carried_over_and_still_open_dossiers(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    # A is finished late after Tết, B is never finished: both due five days after receipt.
    await ingest(
        clean_db,
        [
            b.dossier("A", "received", RECEIVED, RECEIVED),
            b.dossier("B", "received", RECEIVED + timedelta(minutes=5), RECEIVED),
            b.dossier("A", "completed", DONE, RECEIVED),
        ],
    )
    overdue = await day_values(api, "ps.overdue_rate")
    # The day they came: two received, none carried over, none overdue yet.
    assert (overdue["2025-01-24"]["numerator"], overdue["2025-01-24"]["denominator"]) == (0, 2)
    # The day A is finished: A late + B open past its deadline, over 2 carried over.
    assert (overdue["2025-02-04"]["numerator"], overdue["2025-02-04"]["denominator"]) == (2, 2)
    assert overdue["2025-02-04"]["value"] == 100.0 and overdue["2025-02-04"]["status"] == "red"
    # Between, nothing is received or completed, yet both are carried over every day.
    assert overdue["2025-01-30"]["denominator"] == 2 and overdue["2025-01-30"]["numerator"] == 2

    processing = await day_values(api, "ps.avg_processing_days")
    working_days = working_days_between(date(2025, 1, 24), date(2025, 2, 4))
    assert working_days == 2  # the Tết break and the weekends do not count
    assert processing["2025-02-04"]["numerator"] == working_days
    assert processing["2025-02-04"]["value"] == 2.0


async def test_satisfaction_counts_a_disliked_dossier_with_a_complaint_once(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    ratings = [("dislike", True), ("dislike", False), ("satisfied", True), ("satisfied", False)]
    docs = []
    for i, (rating, complaint) in enumerate(ratings):
        docs += [
            b.dossier(f"S{i}", "received", RECEIVED, RECEIVED),
            b.dossier(f"S{i}", "completed", RECEIVED + timedelta(hours=2), RECEIVED),
            b.dossier(
                f"S{i}", "rated", RECEIVED + timedelta(hours=3), RECEIVED,
                rating=rating, complaint=complaint,
            ),
        ]  # fmt: skip
    await ingest(clean_db, docs)
    day = (await day_values(api, "ps.satisfaction_rate"))["2025-01-24"]
    # 4 completed on time; 3 of them rated "dislike" or with a complaint (one with both).
    assert (day["numerator"], day["denominator"], day["value"]) == (1, 4, 25.0)


async def test_on_time_counts_open_dossiers_still_within_their_deadline(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    # A is finished late, B is never finished (overdue from 29 Jan), C comes the day A is
    # finished and is still open, within its deadline, at the end of that day.
    await ingest(
        clean_db,
        [
            b.dossier("A", "received", RECEIVED, RECEIVED),
            b.dossier("B", "received", RECEIVED + timedelta(minutes=5), RECEIVED),
            b.dossier("A", "completed", DONE, RECEIVED),
            b.dossier("C", "received", DONE - timedelta(hours=1), DONE - timedelta(hours=1)),
        ],
    )
    on_time = await day_values(api, "ps.on_time_rate")
    # Decision 766: (completed on time + open not yet overdue) ÷ (completed + still open).
    assert (on_time["2025-01-24"]["numerator"], on_time["2025-01-24"]["denominator"]) == (2, 2)
    assert (on_time["2025-01-30"]["numerator"], on_time["2025-01-30"]["denominator"]) == (0, 2)
    day = on_time["2025-02-04"]  # A late, B overdue, C on time
    assert (day["numerator"], day["denominator"], day["value"]) == (1, 3, 33.33)


async def test_a_deadline_later_in_the_current_period_is_not_overdue_yet(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    now = datetime.now(UTC)
    received = now - timedelta(days=3)
    await ingest(
        clean_db,
        [b.dossier("N", "received", received, received, due_at=now + timedelta(minutes=10))],
    )
    year = Bucket.YEAR.floor(now)
    params = {"bucket": "year", "from": year.isoformat(), "to": (now + HOUR).isoformat()}
    for code, numerator in (("ps.overdue_rate", 0), ("ps.on_time_rate", 1)):
        response = await api.get(f"/api/v1/indicators/{code}/values", params=params)
        (value,) = response.json()["values"]
        # As of now, not as of 31 December: the dossier is open and still within its deadline.
        assert (value["numerator"], value["denominator"]) == (numerator, 1), code


async def test_a_rated_dossier_is_done_even_without_its_completion_step(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    # Only the rating is seen (the data began after the completion, or that step was lost).
    received = datetime(2025, 5, 26, 9, 0, tzinfo=LOCAL)
    rated = datetime(2025, 6, 3, 9, 0, tzinfo=LOCAL)
    doc = b.dossier(
        "R", "rated", rated, received, due_at=datetime(2025, 5, 28, 17, 0, tzinfo=LOCAL),
        subject="20335",
    )  # fmt: skip
    await ingest(clean_db, [doc])
    params = {
        "unit": "20335",
        "from": "2025-05-26T00:00:00+07:00",
        "to": "2025-06-10T00:00:00+07:00",
    }
    got = {}
    for code in ("ps.overdue_rate", "ps.on_time_rate"):
        response = await api.get(f"/api/v1/indicators/{code}/values", params=params)
        got[code] = {v["period_start"][:10]: v for v in response.json()["values"]}
    overdue, on_time = got["ps.overdue_rate"], got["ps.on_time_rate"]
    # Open and within its deadline until 28 May, open and overdue until it was rated ...
    assert on_time["2025-05-27"]["value"] == 100.0 and overdue["2025-05-27"]["value"] == 0.0
    assert on_time["2025-06-02"]["value"] == 0.0 and overdue["2025-06-02"]["value"] == 100.0
    # ... done from its rating: carried into 3 June, neither late nor on time (unknown) ...
    assert (overdue["2025-06-03"]["numerator"], overdue["2025-06-03"]["denominator"]) == (0, 1)
    assert on_time["2025-06-03"]["value"] is None
    # ... and nothing afterwards: it is not open, let alone overdue, for ever.
    for day in ("2025-06-04", "2025-06-09"):
        assert day not in overdue or overdue[day]["value"] is None, overdue[day]
        assert day not in on_time or on_time[day]["value"] is None, on_time[day]


async def test_satisfaction_by_hour_rates_the_dossiers_completed_in_that_hour(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    # B and C are completed at 9:00 and disliked at 10:30, when A is completed.
    docs = []
    for name, done in (("A", RECEIVED + 2 * HOUR + timedelta(minutes=20)),
                       ("B", RECEIVED + HOUR), ("C", RECEIVED + HOUR)):  # fmt: skip
        docs += [b.dossier(name, "received", RECEIVED, RECEIVED),
                 b.dossier(name, "completed", done, RECEIVED)]  # fmt: skip
    docs += [
        b.dossier(name, "rated", RECEIVED + 2 * HOUR + timedelta(minutes=30), RECEIVED,
                  rating="dislike", complaint=False)
        for name in ("B", "C")
    ]  # fmt: skip
    await ingest(clean_db, docs)
    params = {
        "bucket": "hour",
        "from": RECEIVED.isoformat(),
        "to": (RECEIVED + 4 * HOUR).isoformat(),
    }
    response = await api.get("/api/v1/indicators/ps.satisfaction_rate/values", params=params)
    hours = {v["period_start"][11:16]: v for v in response.json()["values"] if v["denominator"]}
    # Each rating counts with its dossier's completion: 9:00 has B and C, both disliked ...
    assert (hours["09:00"]["numerator"], hours["09:00"]["denominator"]) == (0, 2)
    # ... and 10:00 has A alone, not disliked (it read (1 − 2) ÷ 1 = −100 % before).
    assert (hours["10:00"]["numerator"], hours["10:00"]["denominator"]) == (1, 1)
    assert all(0 <= v["value"] <= 100 for v in hours.values())


async def test_working_days_counted_in_the_database_are_the_calendars(engine: AsyncEngine) -> None:
    """Working days in (received, done] as the processing time's SQL counts them (those
    through done less those through received), for every pair of days over two Tết breaks
    and the 30 April, 1 May and 2 September holidays, against ``models.calendar``; done
    before received counts 0."""
    first, last = date(2024, 12, 20), date(2026, 2, 28)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    holidays = holidays_between(
        datetime.combine(first, datetime.min.time(), UTC),
        datetime.combine(last, datetime.min.time(), UTC),
    )
    day = func.unnest(literal(days, ARRAY(Date)), type_=Date).column_valued("day")
    async with engine.connect() as conn:
        rows = await conn.execute(select(day, _working_days_through(day, holidays)))
        through = {d: n for d, n in rows}
    assert len(through) == len(days)
    for received in days[::3]:
        for done in days:
            counted = max(through[done] - through[received], 0)
            assert counted == max(working_days_between(received, done), 0), (received, done)

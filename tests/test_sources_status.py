"""``GET /sources`` answers (``source_statuses``, which reads the day tiers' counts and hour
masks and tallies slots a schedule at a time) equal an independent computation from the raw
events: hour by hour, slot by slot, over a short range with partial edge days."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.sources.service import source_statuses
from app.sources.slots import GRACE, Masks, slots, standing
from models.clock import LOCAL
from models.sources import SourceSystem, source_registry
from simulators.base import EventDoc
from simulators.runner import collect
from simulators.streams import make_streams
from tests.helpers import write_docs

pytestmark = pytest.mark.integration

SCALE = 0.1
START = datetime(2025, 10, 19, 13, tzinfo=LOCAL)
"""A Sunday afternoon: the first day is partial."""
END = datetime(2025, 10, 23, 9, 30, tzinfo=LOCAL)
"""A Thursday morning, mid-hour: so is the last, and a school's report is still to come."""
SILENT = "his/TTYT-514"
"""Goes silent on the Tuesday at 09:00 (a feed that fails)."""
HOUR = timedelta(hours=1)


def _feed() -> list[EventDoc]:
    stop = datetime(2025, 10, 21, 9, tzinfo=LOCAL)
    docs = collect(make_streams(8, ("health", "education", "public_service"), SCALE), START, END)
    return [
        d for d in docs if not (d["source"] == SILENT and datetime.fromisoformat(d["time"]) >= stop)
    ]


def _expected_events(source: SourceSystem) -> float:
    """The registry's expected events, hour by hour (the fraction of a cut hour counted)."""
    total, hour = 0.0, START.replace(minute=0)
    while hour < END:
        inside = (min(hour + HOUR, END) - max(hour, START)) / HOUR
        first, last = source.reporting_hours
        if first <= hour.hour < last and source.reports_on(hour.date()):
            weight = source.hour_weight(hour.hour) * source.day_weight(hour.weekday())
            total += inside * weight * source.expected_per_hour
        hour += HOUR
    return total


async def test_sources_answers_equal_an_independent_count(clean_db: AsyncEngine) -> None:
    docs = _feed()
    assert await write_docs(clean_db, docs) == len(docs)
    async with clean_db.connect() as conn:
        found = await source_statuses(conn, start=START, end=END, now=END, volume_scale=SCALE)
    answers = {s.source: s for s in found}

    masks: Masks = {}
    received: Counter[str] = Counter()
    first_of_type: dict[str, datetime] = {}
    for d in docs:
        at = datetime.fromisoformat(d["time"]).astimezone(LOCAL)
        key = (d["source"], at.date())
        masks[key] = masks.get(key, 0) | 1 << at.hour
        received[d["source"]] += 1
        first_of_type[d["type"]] = min(first_of_type.get(d["type"], at), at)
    statuses: Counter[str] = Counter()
    for source in source_registry(SCALE):
        got = answers[source.code]
        owed = [s for s in slots(source, masks, START, END) if s.arrived or s.due_at + GRACE <= END]
        assert (got.expected_slots, got.received_slots) == (
            len(owed),
            sum(s.arrived for s in owed),
        ), source.code
        assert got.received == received[source.code], source.code
        assert got.expected == pytest.approx(round(_expected_events(source), 2), abs=0.011)
        starts = [first_of_type[t] for t in source.event_types if t in first_of_type]
        since = min(starts).replace(minute=0, second=0, microsecond=0) if starts else None
        assert got.status == standing(source, masks, END, since).status, source.code
        statuses[got.status] += 1
    # The comparison covers every kind of answer: fresh ones, the failing feed, owed slots.
    assert answers[SILENT].status == "silent" and statuses["fresh"] > 900
    assert sum(a.expected_slots for a in answers.values()) > 3_000

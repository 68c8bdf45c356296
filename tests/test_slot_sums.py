"""Owed and arrived reporting slots per unit and period, summed in the database from the
source day masks, equal a recount source by source (``slot_tally``, the masks tallied in
Python) for every bucket and level, and so do each source's slots in ``/sources``: with
slots still under way, after late events, and while a declared closure holds, then once it
is withdrawn; over ranges from a Monday, from mid-week and off local midnight."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.buckets import Bucket
from app.sources import closures
from app.sources.schemas import ClosureIn
from app.sources.service import slot_sums, slot_tally, source_statuses, sources_for
from models.clock import LOCAL
from models.units import legacy_units
from simulators.base import EventDoc, events_between
from simulators.streams import make_streams
from tests.helpers import write_docs

pytestmark = pytest.mark.integration

FIRST = dt.date(2025, 10, 20)
"""A Monday: a school and working week, and the weekend after it."""
START = datetime.combine(FIRST, dt.time(0), LOCAL)
END = START + timedelta(days=9)
SEED = 2026
PARENT = {u.code: u.parent_code for u in legacy_units()}
LEVELS = {
    "commune": lambda commune: commune,
    "district": lambda commune: PARENT[commune],
    "province": lambda commune: "province",
}
LATE_SOURCE = "school/THPT-502-1"
"""A school whose third day arrives late (after everything else)."""
LATE_DAY = START + timedelta(days=2)

Sums = tuple[dict[tuple[str, datetime], float], dict[tuple[str, datetime], float]]


@dataclass
class Week:
    engine: AsyncEngine
    held: list[EventDoc]
    """The late school day, not stored yet."""


@pytest.fixture
async def week(clean_db: AsyncEngine) -> AsyncIterator[Week]:
    """Nine days of schools, desks and clinics, one school's third day held back."""
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE source_closure"))
    streams = make_streams(SEED, ("education", "public_service", "health"), scale=0.05)
    docs = list(events_between(streams, START, END))
    held = [d for d in docs if d["source"] == LATE_SOURCE and _on_late_day(d)]
    assert held
    kept = [d for d in docs if not (d["source"] == LATE_SOURCE and _on_late_day(d))]
    assert await write_docs(clean_db, kept) == len(kept)
    yield Week(clean_db, held)
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE source_closure"))


def _on_late_day(doc: EventDoc) -> bool:
    at = datetime.fromisoformat(str(doc["time"]))
    return LATE_DAY <= at < LATE_DAY + timedelta(days=1)


async def _both(
    engine: AsyncEngine, level: str, bucket: Bucket, now: datetime, start: datetime = START
) -> tuple[Sums, Sums]:
    """The sums as answers get them, and a recount source by source."""
    mapping = {u.code: LEVELS[level](u.code) for u in legacy_units() if u.level == "commune"}
    async with engine.connect() as conn:
        got = await slot_sums(
            conn, None, mapping, bucket=bucket, start=start, end=END, now=now, volume_scale=0.05
        )
        sources = [s for s in sources_for(None, 0.05) if s.commune_code in mapping]
        tallied = await slot_tally(conn, sources, bucket, start, END, now)
    commune = {s.code: s.commune_code for s in sources}
    owed: dict[tuple[str, datetime], float] = defaultdict(float)
    arrived: dict[tuple[str, datetime], float] = defaultdict(float)
    for code, periods in tallied.items():
        for period, (n, m) in periods.items():
            owed[mapping[commune[code]], period] += n
            arrived[mapping[commune[code]], period] += m
    return got, (dict(owed), dict(arrived))


async def _statuses(
    engine: AsyncEngine, now: datetime
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Each source's (owed, arrived) slots as ``/sources`` gives them, and recounted."""
    async with engine.connect() as conn:
        found = await source_statuses(conn, start=START, end=END, now=now, volume_scale=0.05)
        sources = sources_for(None, 0.05)
        tallied = await slot_tally(conn, sources, Bucket.YEAR, START, END, now)
    recount = {
        code: (sum(c[0] for c in periods.values()), sum(c[1] for c in periods.values()))
        for code, periods in tallied.items()
    }
    return {s.source: (s.expected_slots, s.received_slots) for s in found}, recount


CASES = [
    (level, bucket, now)
    for level in LEVELS
    for bucket in (Bucket.HOUR, Bucket.DAY, Bucket.WEEK, Bucket.MONTH)
    # Mid-week at 10:40 (slots under way, some counted only because they arrived) and after.
    for now in (START + timedelta(days=3, hours=10, minutes=40), END + timedelta(days=1))
]


async def test_the_sums_equal_a_recount_through_late_events_and_a_closure(week: Week) -> None:
    async def check(label: str) -> dict[str, Sums]:
        out = {}
        for level, bucket, now in CASES:
            got, recount = await _both(week.engine, level, bucket, now)
            assert got == recount, (label, level, bucket, now)
            assert sum(got[0].values()) > 0, (label, level, bucket, now)
            out[f"{level}/{bucket.value}/{now.isoformat()}"] = got
        for now in {now for _, _, now in CASES}:
            statuses, recount = await _statuses(week.engine, now)
            assert statuses == recount, (label, now)
        return out

    first = await check("stored")

    # Late events: the held-back school day arrives after the rest.
    assert await write_docs(week.engine, week.held) == len(week.held)
    late = await check("late events")
    school = next(s for s in sources_for(None, 0.05) if s.code == LATE_SOURCE)
    district = PARENT[school.commune_code]
    key = f"district/day/{(END + timedelta(days=1)).isoformat()}"
    day = (district, LATE_DAY)
    assert late[key][1][day] == first[key][1][day] + 1
    assert late[key][0][day] == first[key][0][day]

    # A closure of the district's schools for the late day, then withdrawn.
    async with week.engine.begin() as conn:
        declared = await closures.declare(
            conn,
            ClosureIn(
                unit_code=district,
                kinds=["lower_secondary", "upper_secondary", "primary", "preschool"],
                starts_at=LATE_DAY,
                ends_at=LATE_DAY + timedelta(days=1),
                reason="flood",
            ),
            "test",
        )
    closed = await check("closure declared")
    assert closed[key][0][day] < late[key][0][day]
    async with week.engine.begin() as conn:
        await closures.withdraw(conn, declared.id, "test", END)
    assert await check("closure withdrawn") == late


async def test_a_range_off_local_midnight_equals_the_recount(week: Week) -> None:
    """Edges that are not whole local days are tallied from the hourly rows, as before."""
    start = START + timedelta(hours=5, minutes=30)
    for bucket in (Bucket.HOUR, Bucket.DAY):
        got, recount = await _both(week.engine, "district", bucket, END + timedelta(days=1), start)
        assert got == recount
        assert sum(got[0].values()) > 0


async def test_a_range_from_mid_week_equals_the_recount(week: Week) -> None:
    """Whole local days from a Wednesday: the week slots that end in the range look back
    to their Monday, before the range starts."""
    start = START + timedelta(days=2)
    for level, bucket in (("district", Bucket.DAY), ("province", Bucket.WEEK)):
        for now in (START + timedelta(days=3, hours=10, minutes=40), END + timedelta(days=1)):
            got, recount = await _both(week.engine, level, bucket, now, start)
            assert got == recount, (level, bucket, now)
            assert sum(got[0].values()) > 0

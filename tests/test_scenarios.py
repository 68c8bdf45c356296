"""Scenarios raise the alerts an operator expects, and nothing else does.

The province's clean streams for the same weekday of the eight weeks before the scenario
day (what the anomaly and baseline rules compare with) are ingested once into a database
of their own; each test copies it, sends the scenario day through the broker and the
ingest consumer, evaluates every alert rule through the day, and compares the alerts
opened with the scenario's declared ones, (rule, unit) for (rule, unit). A clean day,
evaluated the same way, opens none: every alert of a scenario is its own doing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.alerts import service as alerts
from app.sources.closures import declare_once
from app.sources.service import source_statuses
from ingest.writer import RawMessage, Writer
from ioc.services import upgrade
from models.clock import LOCAL
from models.db import make_engine
from models.events import HEALTH_CLAIM, dump_event
from models.units import legacy_units
from simulators.base import event_time, events_between
from simulators.scenarios import BY_NAME, SCENARIOS, ScenarioRun, with_scenario
from simulators.sinks import KafkaSink
from simulators.streams import make_streams
from tests.helpers import running_consumer, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults]

DAY = dt.date(2025, 10, 21)
"""A Tuesday of the flood and dengue season, a school and working day."""
SEED = 2026
BASELINE_WEEKS = 8
"""The anomaly rules compare a day with the same weekday of the 8 weeks before."""
JUDGED_AT = (12, 18, 24)
"""Local hours of the scenario day at which every rule is evaluated."""
CHUNK = 2_000
FLOOD_COMMUNES = {u.code for u in legacy_units() if u.parent_code == BY_NAME["flood_day"].district}


def _midnight(day: dt.date) -> datetime:
    return datetime.combine(day, dt.time(0), LOCAL)


def _events(
    start: dt.date, days: int, sectors: tuple[str, ...] | None = None, scenario: str | None = None
) -> list[dict[str, object]]:
    streams = with_scenario(make_streams(SEED, sectors), scenario, DAY, SEED)
    end = _midnight(start + timedelta(days=days))
    return list(events_between(streams, _midnight(start), end))


def _baseline_events() -> list[dict[str, object]]:
    """The same weekday of the 8 weeks before: the streams the rules compare with earlier
    weeks (encounters, beds, visitors, hotline reports). Dossiers, claims and school
    reports are judged on the day itself: their data begins with it, in the middle of
    dossiers' lives, as a deployment's does (days with gaps would leave dossiers open
    for ever, and the on-time rate counts those still open)."""
    docs: list[dict[str, object]] = []
    for weeks in range(1, BASELINE_WEEKS + 1):
        day = _events(DAY - timedelta(weeks=weeks), 1, ("health", "tourism", "citizen"))
        docs += [d for d in day if d["type"] != HEALTH_CLAIM.type]
    return docs


async def _admin(database_url: str, sql: str) -> None:
    url = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def _url_of(database_url: str, name: str) -> str:
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
async def baseline(database_url: str) -> AsyncIterator[str]:
    """A database holding the clean baseline weeks (the template of each test's database)."""
    name = f"scenario_base_{uuid.uuid4().hex[:8]}"
    await _admin(database_url, f'CREATE DATABASE "{name}"')
    engine = make_engine(_url_of(database_url, name))
    try:
        await upgrade(_url_of(database_url, name), engine)
        writer, docs = Writer(engine), _baseline_events()
        for i in range(0, len(docs), CHUNK):
            chunk = [dump_event(d) for d in docs[i : i + CHUNK]]
            messages = [RawMessage("t", 0, i + j, None, m) for j, m in enumerate(chunk)]
            result = await writer.write(messages)
            assert result.inserted == len(messages), result.rejected
    finally:
        await engine.dispose()
    yield name
    await _admin(database_url, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
async def day_db(
    baseline: str, database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> AsyncIterator[AsyncEngine]:
    name = f"scenario_{uuid.uuid4().hex[:8]}"
    await _admin(database_url, f'CREATE DATABASE "{name}" TEMPLATE "{baseline}"')
    engine = make_engine(_url_of(database_url, name))
    try:
        yield engine
    finally:
        await engine.dispose()
        await _admin(database_url, f'DROP DATABASE "{name}" WITH (FORCE)')


Pairs = set[tuple[str, str]]


async def _play_and_judge(
    engine: AsyncEngine, bootstrap: str, prefix: str, scenario: str | None
) -> tuple[Pairs, Pairs, Pairs]:
    """The scenario day through the broker and the ingest consumer, every rule evaluated
    at each hour of :data:`JUDGED_AT` on what has arrived by then, as a live evaluator
    would; returns (alerts opened, alerts resolved, alerts still open at the day's end) as
    (rule, unit) pairs."""
    docs = _events(DAY, 1, None, scenario)
    if scenario is not None:  # what it closes is declared, as the demo declares it
        async with engine.begin() as conn:
            for closure in ScenarioRun(BY_NAME[scenario], DAY, SEED).closures():
                await declare_once(conn, closure, f"scenario {scenario}")
    sink = KafkaSink(bootstrap, prefix)
    opened: Pairs = set()
    resolved: Pairs = set()
    sent = 0
    try:
        async with running_consumer(engine, bootstrap, prefix) as seen:
            for hour in JUDGED_AT:
                as_of = _midnight(DAY) + timedelta(hours=hour)
                due = [d for d in docs[sent:] if event_time(d) < as_of]
                for i in range(0, len(due), CHUNK):
                    await sink.send(due[i : i + CHUNK])
                sent += len(due)
                await wait_for(lambda n=sent: seen.consumed >= n, 120, f"{sent} events")
                async with engine.begin() as conn:
                    result = await alerts.evaluate(conn, as_of, volume_scale=1.0)
                opened |= {(a.rule_code, a.unit_code) for a in result.opened}
                resolved |= {(a.rule_code, a.unit_code) for a in result.resolved}
        assert sent == len(docs) and seen.inserted == len(docs) and seen.rejected == 0
    finally:
        await sink.close()
    async with engine.connect() as conn:
        still = await alerts.search(conn, status="open", indicator=None, unit=None, limit=100)
    return opened, resolved, {(a.rule_code, a.unit_code) for a in still}


async def test_a_clean_day_raises_no_alert(
    day_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    opened, _, still_open = await _play_and_judge(day_db, kafka_bootstrap, topic_prefix, None)
    assert opened == set() and still_open == set()


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
async def test_scenario_raises_its_alerts_and_nothing_else(
    name: str, day_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    scenario = BY_NAME[name]
    opened, resolved, still_open = await _play_and_judge(
        day_db, kafka_bootstrap, topic_prefix, name
    )
    expected = {(rule, scenario.district) for rule in scenario.expected_alerts}
    assert opened == expected
    # An alert may resolve once the data is back (the flood's schools owe nothing at night).
    assert still_open | resolved == expected and not still_open & resolved
    async with day_db.connect() as conn:
        statuses = await source_statuses(
            conn,
            start=_midnight(DAY),
            end=_midnight(DAY + timedelta(days=1)),
            now=_midnight(DAY) + timedelta(hours=18),
            volume_scale=1.0,
        )
    status = {s.source: s.status for s in statuses}
    if name == "hospital_silent":
        assert status["his/TTYT-514"] == "silent"
    if name == "flood_day":
        closed = [
            s.source
            for s in statuses
            if s.source.startswith(("school/", "motcua/")) and s.unit_code in FLOOD_COMMUNES
        ]
        # Declared closed: they owe nothing that day, neither late nor silent.
        assert closed and all(status[c] == "closed" for c in closed)

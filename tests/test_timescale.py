"""The TimescaleDB store: hypertables, chunk retention, late data, and the same indicator
answers as the native-PostgreSQL store for the same recorded stream.

Run by ``.ci/run`` with ``IOC_DATABASE_URL`` pointing at PostgreSQL + TimescaleDB
(``.ci/timescale.sh``); marker ``timescale``.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.maintenance import maintain
from ingest.tables import EVENT_TABLES
from ingest.writer import BatchResult, RawMessage, Writer
from ioc.embedded import embedded_postgres
from ioc.services import upgrade
from models.db import make_engine
from models.events import dump_event
from models.settings import Settings
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY
from tests.helpers import app_client, scalar
from tests.test_indicators_golden import OPERATOR, RECORDING, SNAPSHOTS, WINDOW

pytestmark = pytest.mark.timescale


@pytest.fixture(scope="module", autouse=True)
async def _timescale(engine: AsyncEngine) -> None:
    version = await scalar_text(
        engine, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    )
    if version is None:
        pytest.fail("IOC_DATABASE_URL must point at PostgreSQL with TimescaleDB for this marker")


async def scalar_text(engine: AsyncEngine, sql: str) -> str | None:
    async with engine.connect() as conn:
        value = await conn.scalar(text(sql))
    return None if value is None else str(value)


async def write(engine: AsyncEngine, docs: Sequence[dict[str, object]]) -> BatchResult:
    messages = [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    return await Writer(engine).write(messages)


async def test_every_event_table_is_a_hypertable(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        hypertables = set(
            await conn.scalars(
                text("SELECT hypertable_name FROM timescaledb_information.hypertables")
            )
        )
        partitioned = set(
            await conn.scalars(text("SELECT relname FROM pg_class WHERE relkind = 'p'"))
        )
    event_tables = {spec.table.name for spec in EVENT_TABLES.values()}
    assert event_tables <= hypertables
    assert not event_tables & partitioned


async def test_retention_drops_old_chunks_and_keeps_rollups(clean_db: AsyncEngine) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    old, recent = now - timedelta(days=60), now - timedelta(hours=2)
    await write(clean_db, [b.encounter(old, i) for i in range(4)])
    await write(clean_db, [b.encounter(recent, i) for i in range(3)])
    report = await maintain(clean_db, now=now, retention_days=30)
    assert report.chunks_dropped >= 1
    assert await scalar(clean_db, "SELECT count(*) FROM health_encounter") == 3
    # the roll-ups keep the dropped events' counts: old periods still have indicators
    assert await scalar(clean_db, "SELECT sum(encounters) FROM health_encounter_hourly") == 7


async def test_a_late_event_lands_in_an_older_chunk_and_its_hour(clean_db: AsyncEngine) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await write(clean_db, [b.encounter(now, i) for i in range(5)])
    late = now - timedelta(days=20)  # other chunks than the 7-day one of now
    doc = b.encounter(late, 1)
    result = await write(clean_db, [doc, doc])  # the same event twice: stored once
    assert (result.inserted, result.duplicates) == (1, 1)
    async with clean_db.connect() as conn:
        chunks = await conn.scalar(
            text("SELECT count(*) FROM timescaledb_information.chunks "
                 "WHERE hypertable_name = 'health_encounter'")
        )  # fmt: skip
        hours = (
            await conn.execute(
                text("SELECT bucket_start, sum(encounters) FROM health_encounter_hourly GROUP BY 1")
            )
        ).all()
    assert chunks >= 2
    floor = now.replace(minute=0, second=0)
    assert sorted(map(tuple, hours)) == [(floor - timedelta(days=20), 1), (floor, 5)]


async def _replay(engine: AsyncEngine) -> None:
    with gzip.open(RECORDING, "rb") as recording:
        lines = [line.rstrip(b"\n") for line in recording if line.strip()]
    writer = Writer(engine)
    for start in range(0, len(lines), 2000):
        batch = [RawMessage("replay", 0, start + i, None, line)
                 for i, line in enumerate(lines[start:start + 2000])]  # fmt: skip
        await writer.write(batch)


async def _answers(engine: AsyncEngine, database_url: str) -> dict[str, Any]:
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0)
    answers: dict[str, Any] = {}
    async with app_client(database_url, settings=settings) as client:
        for name, code, query in SNAPSHOTS:
            response = await client.get(
                f"/api/v1/indicators/{code}/values",
                params={**WINDOW, **query},
                headers=OPERATOR,
            )
            assert response.status_code == 200, response.text
            answers[name] = [
                {k: v for k, v in value.items() if k != "as_of"}
                for value in response.json()["values"]
            ]
    return answers


@pytest.fixture
async def native_store(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """The embedded PostgreSQL (native partitions) beside the TimescaleDB under test."""
    with embedded_postgres(tmp_path / "native", database="ioc_native") as url:
        engine = make_engine(url)
        await upgrade(url, engine)
        try:
            yield engine, url
        finally:
            await engine.dispose()


async def test_one_recording_gives_the_same_answers_on_both_stores(
    clean_db: AsyncEngine, database_url: str, native_store: tuple[AsyncEngine, str]
) -> None:
    native, native_url = native_store
    await _replay(clean_db)
    await _replay(native)
    timescale = await _answers(clean_db, database_url)
    assert all(timescale.values()), "the recording should give values for every query"
    assert timescale == await _answers(native, native_url)

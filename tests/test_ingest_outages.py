"""A worker waits out a database outage of any length (started during one, or hit by one
mid-run), says so in its health file and metrics, and then resumes, losing and doubling
nothing; the one retry policy behind it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.consumer import consume
from ingest.retry import BACKOFF_MAX_S, wait_out
from ingest.writer import Writer
from models.db import make_engine
from simulators.sinks import KafkaSink
from tests import ingest_builders as b
from tests.helpers import SESSION_TIMEOUT_MS, scalar, wait_for
from tests.outage import DatabaseOutage

DOWN = OperationalError("SELECT 1", {}, Exception("connection refused"))


async def test_the_policy_waits_out_any_number_of_failures_with_capped_backoff() -> None:
    delays: list[float] = []
    waits: list[tuple[str, int]] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    failures = iter(range(40))

    async def flaky() -> str:
        if next(failures, None) is not None:
            raise DOWN
        return "done"

    retrying = wait_out(lambda dep, _e, attempt, _d: waits.append((dep, attempt)), sleep=sleep)
    assert await retrying(flaky) == "done"
    assert delays[:7] == [0.5, 1, 2, 4, 8, 16, BACKOFF_MAX_S]
    assert len(delays) == 40 and max(delays) == BACKOFF_MAX_S
    assert waits[0] == ("database", 1) and waits[-1] == ("database", 40)


async def test_the_policy_raises_data_errors_at_once_and_transient_ones_once_stopped() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise IntegrityError("INSERT", {}, Exception("duplicate"))

    with pytest.raises(IntegrityError):
        await wait_out()(broken)
    assert calls == 1

    stop = asyncio.Event()

    async def down() -> None:
        stop.set()  # SIGTERM arrives during the outage
        raise DOWN

    with pytest.raises(OperationalError):
        await wait_out(stop=stop)(down)


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


@pytest.mark.integration
async def test_a_worker_started_during_an_outage_waits_then_resumes_and_waits_again(
    clean_db: AsyncEngine,
    database_url: str,
    kafka_bootstrap: str,
    topic_prefix: str,
    tmp_path: Path,
) -> None:
    outage = DatabaseOutage(database_url)
    proxied = make_engine(await outage.start(), pool_timeout=5)
    health = tmp_path / "ingest.health"
    outage.cut()  # the database is down before the worker starts
    stop = asyncio.Event()
    worker = asyncio.create_task(
        consume(
            Writer(proxied),
            bootstrap=kafka_bootstrap,
            topic_prefix=topic_prefix,
            group_id=f"{topic_prefix}-ingest",
            timeout_ms=200,
            stop=stop,
            health_file=health,
            session_timeout_ms=SESSION_TIMEOUT_MS,
        )
    )

    def status() -> str:
        return str(orjson.loads(health.read_bytes())["status"]) if health.exists() else ""

    async def waiting() -> bool:
        assert not worker.done(), worker  # it must not exit
        return status() == "waiting_for_database"

    async def stored(n: int) -> bool:
        assert not worker.done(), worker
        return await scalar(clean_db, "SELECT count(*) FROM health_encounter") == n

    now = datetime.now(UTC).replace(microsecond=0)
    sink = KafkaSink(kafka_bootstrap, topic_prefix)
    try:
        await wait_for(waiting, 90, "the worker to wait for the database", interval=0.2)
        assert _sample("ioc_ingest_dependency_up", dependency="database") == 0
        assert _sample("ioc_ingest_healthy") == 0
        await sink.send([b.encounter(now - timedelta(minutes=i), i) for i in range(50)])
        await asyncio.sleep(3)  # the outage goes on while events wait in the topic
        outage.restore()
        await wait_for(lambda: stored(50), 90, "the first events after the outage", interval=0.2)
        assert status() == "ok"
        assert _sample("ioc_ingest_dependency_up", dependency="database") == 1

        outage.cut()  # mid-run: pooled connections die, new ones are refused
        await sink.send([b.encounter(now - timedelta(hours=1, minutes=i), i) for i in range(50)])
        await wait_for(waiting, 90, "the worker to wait again", interval=0.2)
        await asyncio.sleep(3)
        outage.restore()
        await wait_for(lambda: stored(100), 90, "the events sent during the outage", interval=0.2)
    finally:
        await sink.close()
        stop.set()
        await asyncio.wait_for(worker, 60)
        await proxied.dispose()
        await outage.close()
    assert await scalar(clean_db, "SELECT sum(encounters) FROM health_encounter_hourly") == 100
    assert status() == "stopped"

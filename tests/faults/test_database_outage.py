"""A database outage longer than a minute while events flow: ingest workers (running, and
one started during the outage) wait it out and resume; the API answers 503 with
Retry-After meanwhile, never 500; afterwards the store holds every unique event once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.retry import BACKOFF_MAX_S
from tests.faults.checks import Checks
from tests.faults.http import Tally, issue_key
from tests.faults.ledger import Ledger, Workload, differences_after_drain, produce, wait_stored
from tests.faults.services import Fleet, StoppablePostgres

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 65
ROUTES = (
    "/api/v1/indicators/health.encounters/values?level=district&bucket=day",
    "/api/v1/units/503",
    "/api/v1/sources",
    "/api/v1/alerts",
)


def _health(path: Path | None) -> str:
    try:
        return str(orjson.loads(path.read_bytes()).get("status")) if path else "none"
    except (OSError, orjson.JSONDecodeError):
        return "unreadable"


async def test_workers_wait_out_a_database_outage_and_the_api_answers_503(
    ioc: Fleet,
    fault_db: tuple[str, AsyncEngine],
    fault_pg: StoppablePostgres,
    bootstrap: str,
    prefix: str,
) -> None:
    _, engine = fault_db
    ledger, load, checks = Ledger(), Workload(seed=11), Checks()
    workers = [ioc.worker("worker-1"), ioc.worker("worker-2")]
    _, base = ioc.serve()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    during, after = Tally(), Tally()
    health_during: dict[str, set[str]] = {w: set() for w in ("worker-1", "worker-2", "worker-3")}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            operator = await issue_key(http, "operator")
            docs = load.batch(2000)
            await produce(producer, prefix, docs)
            ledger.record_all(docs)
            await wait_stored(engine, len(ledger.unique), "the events sent before the outage")

            fault_pg.stop()
            down = time.monotonic()
            while (elapsed := time.monotonic() - down) < OUTAGE_SECONDS:
                docs = load.batch(300)  # the broker is up: sources keep sending
                await produce(producer, prefix, docs)
                ledger.record_all(docs)
                for route in ROUTES:
                    answer = await during.request(
                        http, "GET", route, headers={"X-API-Key": operator}
                    )
                    if answer is not None and answer.status_code == 503:
                        checks.expect(answer.headers.get("Retry-After"), f"{route}: no Retry-After")
                if elapsed > 10 and len(workers) == 2:
                    workers.append(ioc.worker("worker-3"))  # started while the database is down
                if elapsed > 40:
                    for worker in workers:
                        health_during[worker.name].add(_health(worker.health))
                await asyncio.sleep(2)
            gone = [f"{w.name}: {w.tail(3)}" for w in workers if not w.alive()]
            checks.expect(not gone, f"workers that gave up during the outage: {gone}")
            fault_pg.start()

            await engine.dispose()  # the pool's connections died with the server
            problems = await differences_after_drain(engine, ledger)
            checks.expect(not problems, f"store vs unique events sent: {problems}")
            for route in ROUTES:
                await after.request(http, "GET", route, headers={"X-API-Key": operator})
            # a worker between two attempts sleeps up to the backoff cap before it finds
            # the database back (another may have drained its partitions meanwhile)
            for _ in range(int(BACKOFF_MAX_S) + 30):
                if all(_health(w.health) == "ok" for w in workers):
                    break
                await asyncio.sleep(1)
    finally:
        await producer.stop()

    for worker in workers:
        checks.expect(
            "ok" not in health_during[worker.name],
            f"{worker.name}'s health file during the outage: {health_during[worker.name]}",
        )
        checks.expect(
            _health(worker.health) == "ok",
            f"{worker.name}'s health file after the outage: {_health(worker.health)}",
        )
    checks.expect(
        set(during.statuses) == {503},
        f"API answers during the outage: {dict(during.statuses)} {during.examples}",
    )
    checks.expect(
        set(after.statuses) == {200},
        f"API answers after the outage: {dict(after.statuses)} {after.examples}",
    )
    checks.assert_all()

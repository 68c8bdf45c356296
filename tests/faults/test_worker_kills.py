"""kill -9 of ingest workers at random moments while events flow: nothing lost, nothing
counted twice (offsets are committed after the database commit; redelivery is deduplicated)."""

from __future__ import annotations

import asyncio
import random

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.faults.ledger import Ledger, Workload, assert_exact, produce
from tests.faults.services import Fleet

pytestmark = pytest.mark.faults

ROUNDS = 12
BOTH_AT_ONCE = {3, 7, 10}
"""Rounds in which both workers are killed together (the group has no member left)."""


async def test_workers_killed_at_random_moments_lose_and_double_nothing(
    ioc: Fleet, fault_db: tuple[str, AsyncEngine], bootstrap: str, prefix: str
) -> None:
    _, engine = fault_db
    rng = random.Random(20261130)
    ledger, load = Ledger(), Workload(seed=7)
    workers = [ioc.worker("worker-1"), ioc.worker("worker-2")]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for round_ in range(ROUNDS):
            docs = load.batch(rng.randint(800, 2000))
            await produce(producer, prefix, docs)
            ledger.record_all(docs)
            await asyncio.sleep(rng.uniform(0.3, 4.0))  # a random moment of the work
            for worker in workers:
                assert worker.alive(), f"{worker.name} exited by itself:\n{worker.tail()}"
            victims = workers if round_ in BOTH_AT_ONCE else [rng.choice(workers)]
            for worker in victims:
                ioc.kill9(worker)
            await asyncio.sleep(rng.uniform(0.2, 2.0))  # a supervisor's restart delay
            workers = [ioc.restart(w) if not w.alive() else w for w in workers]
    finally:
        await producer.stop()

    await assert_exact(engine, ledger)
    assert ioc.kills >= 10
    for worker in workers:
        assert worker.alive(), f"{worker.name} exited by itself:\n{worker.tail()}"
        assert set(worker.exits) <= {-9}, worker.exits

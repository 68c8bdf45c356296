"""Poison at volume, mixed with valid events, through the broker and through the gateway:
every bad message becomes a reject with its reason (the broker path) or a rejected verdict
(the gateway), nothing stops a worker, no answer is a 500, and the valid events are all
stored once. 600 events in 600 months create partitions only inside the accepted window."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.topics import ensure_topics
from tests.faults.checks import Checks
from tests.faults.conftest import ioc_env
from tests.faults.http import Tally, issue_key
from tests.faults.ledger import Ledger, Workload, differences_after_drain, produce
from tests.faults.poison import (
    BIG_TYPE,
    GATEWAY_MAY_SAY,
    big_message,
    every_message,
    months_apart,
    poison_documents,
)
from tests.faults.services import fleet

pytestmark = pytest.mark.faults

COPIES = 150
"""Each poison kind is sent this many times, shuffled among the valid events."""
MAX_AGE_DAYS = 3650
"""The accepted window's default depth (``IOC_EVENT_MAX_AGE_DAYS``)."""
NUL_ROUTES = (
    "/api/v1/units/%00",
    "/api/v1/indicators/%00",
    "/api/v1/indicators/health.encounters/values?unit=%00",
    "/api/v1/indicators/health.encounters/ranking?period=%00",
    "/api/v1/alerts?unit=%00",
    "/api/v1/alerts?indicator=%00",
    "/api/v1/export/%00.csv",
    "/api/v1/sources?from=%00",
)


async def _big_topic(bootstrap: str, prefix: str) -> None:
    """The encounter topic takes messages up to 4 MB (a broker setting a site may choose)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(BIG_TYPE.topic(prefix), 3, 1, topic_configs={"max.message.bytes": "4194304"})]
        )
    finally:
        await admin.close()


async def test_poison_at_volume_is_rejected_with_reasons_and_stops_nothing(
    fault_db: tuple[str, AsyncEngine], bootstrap: str, prefix: str, tmp_path: object
) -> None:
    url, engine = fault_db
    ledger, load, checks, rng = Ledger(), Workload(seed=17), Checks(), random.Random(3)
    now = datetime.now(UTC)
    await _big_topic(bootstrap, prefix)
    await ensure_topics(bootstrap, prefix, 3)

    messages: list[tuple[str, bytes, bytes]] = []  # (topic, key, value)
    reasons: Counter[str] = Counter()
    for _name, (reason, raw) in every_message(now).items():
        for _ in range(COPIES):
            messages.append((BIG_TYPE.topic(prefix), b"his/poison", raw))
            reasons[reason] += 1
    for _ in range(3):
        messages.append((BIG_TYPE.topic(prefix), b"his/poison", big_message()))
        reasons["too_large"] += 1
    rng.shuffle(messages)

    with fleet(tmp_path, ioc_env(url, bootstrap, prefix)) as ioc:  # type: ignore[arg-type]
        workers = [ioc.worker("worker-1"), ioc.worker("worker-2")]
        _, base = ioc.serve()
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=4 * 1024 * 1024
        )
        await producer.start()
        try:
            for chunk in range(0, len(messages), 500):
                valid = load.batch(300)
                await produce(producer, prefix, valid)
                ledger.record_all(valid)
                sends = [
                    await producer.send(topic, value, key=key)
                    for topic, key, value in messages[chunk : chunk + 500]
                ]
                for send in sends:
                    await send
        finally:
            await producer.stop()

        answers = Tally()
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            ingest_key = await issue_key(http, "ingest")
            operator = await issue_key(http, "operator")
            headers = {"X-API-Key": ingest_key}
            for name, (reason, doc) in poison_documents(now).items():
                valid = load.batch(20)
                batch = [*valid, *[doc] * 20]
                answer = await answers.request(
                    http, "POST", "/api/v1/events", json=batch, headers=headers
                )
                if answer is None or answer.status_code != 200:
                    checks.expect(
                        answer is not None and 400 <= answer.status_code < 500,
                        f"gateway, {name}: {answer.status_code if answer else 'no answer'}",
                    )
                    continue
                verdicts = answer.json()["results"]
                for verdict in verdicts:
                    if verdict["status"] == "accepted":
                        ledger.record(batch[verdict["index"]])
                got = Counter(v["reason"] for v in verdicts[len(valid) :])
                allowed = GATEWAY_MAY_SAY.get(name, {reason})
                checks.expect(
                    len(got) == 1 and set(got) <= allowed and sum(got.values()) == 20,
                    f"gateway, {name}: verdicts {dict(got)}",
                )
                checks.expect(
                    all(v["status"] == "accepted" for v in verdicts[: len(valid)]),
                    f"gateway, {name}: valid events of the batch refused",
                )

            months = months_apart(600, now)
            answer = await answers.request(
                http, "POST", "/api/v1/events", json=months, headers=headers
            )
            if answer is not None and answer.status_code == 200:
                for verdict in answer.json()["results"]:
                    if verdict["status"] == "accepted":
                        ledger.record(months[verdict["index"]])
                    else:
                        checks.expect(
                            verdict["reason"] == "time_out_of_range",
                            f"600 months: {verdict['reason']} {verdict['detail']}",
                        )
            else:
                checks.expect(False, f"600 months: {answer.status_code if answer else 'no answer'}")

            json_body = {**headers, "Content-Type": "application/json"}
            for raw in (
                b'[{"specversion": "1.0", ',
                b"\xff\xfe",
                b"[" * 100_000 + b"]" * 100_000,
                _deep_in_data(load.batch(1)[0], 100_000),
            ):
                await answers.request(
                    http, "POST", "/api/v1/events", content=raw, headers=json_body
                )
            for route in NUL_ROUTES:
                answer = await answers.request(http, "GET", route, headers={"X-API-Key": operator})
                checks.expect(
                    answer is not None and 400 <= answer.status_code < 500,
                    f"GET {route}: {answer.status_code if answer else 'no answer'}",
                )

        problems = await differences_after_drain(engine, ledger)
        checks.expect(not problems, f"store vs unique valid events sent: {problems}")
        async with engine.connect() as conn:
            stored = Counter(
                {
                    r[0]: int(r[1])
                    for r in await conn.execute(
                        text("SELECT reason, count(*) FROM ingest_reject GROUP BY 1")
                    )
                }
            )
            partitions = int(
                await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_inherits "
                        "WHERE inhparent = 'health_encounter'::regclass"
                    )
                )
                or 0
            )
        checks.expect(stored == reasons, f"rejects stored {dict(stored)}, sent {dict(reasons)}")
        checks.expect(
            partitions <= MAX_AGE_DAYS // 28 + 3,
            f"{partitions} monthly partitions of health_encounter for a {MAX_AGE_DAYS}-day window",
        )
        gone = [f"{w.name}:\n{w.tail()}" for w in workers if not w.alive()]
        checks.expect(not gone, f"workers stopped by poison: {gone}")
    checks.expect(
        not {0, 500} & set(answers.statuses),
        f"HTTP answers {dict(answers.statuses)} {answers.examples}",
    )
    checks.assert_all()


def _deep_in_data(doc: dict[str, object], depth: int) -> bytes:
    """A one-event body whose ``data`` is nested ``depth`` deep (no encoder would write it)."""
    head = orjson.dumps([{**doc, "data": "@@"}])
    return head.replace(b'"@@"', b'{"a":' * depth + b"1" + b"}" * depth)

"""A message far over the producer's 1 MB default, on a topic that allows it, is a reject
like any other: recorded with its size, dead-lettered truncated, and the batch goes on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.deadletter import KEEP_BYTES
from models.events import HEALTH_ENCOUNTER, dump_event
from tests import ingest_builders as b
from tests.helpers import dead_letters, running_consumer, scalar, send_raw, wait_for

pytestmark = pytest.mark.integration

BIG = 2 * 1024 * 1024


async def test_a_two_megabyte_message_is_recorded_truncated_and_the_batch_goes_on(
    clean_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = HEALTH_ENCOUNTER.topic(topic_prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": str(8 * 1024 * 1024)})]
        )
    finally:
        await admin.close()
    now = datetime.now(UTC).replace(microsecond=0)
    good = [b.encounter(now - timedelta(minutes=i), i) for i in range(5)]
    huge = b'{"padding": "' + b"x" * BIG + b'"}'
    raws = [dump_event(good[0]), huge, *map(dump_event, good[1:])]
    await send_raw(
        kafka_bootstrap, topic, [(raw, ()) for raw in raws], max_request_size=8 * 1024 * 1024
    )

    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await wait_for(lambda: seen.consumed >= 6, what="six messages consumed")
    assert (seen.inserted, seen.rejected) == (5, 1)
    async with clean_db.connect() as conn:
        reason, size, detail = (
            await conn.execute(text("SELECT reason, length(raw), detail FROM ingest_reject"))
        ).one()
    assert (reason, size) == ("too_large", KEEP_BYTES)
    assert f"{len(huge)} bytes" in detail
    assert f"first {KEEP_BYTES} kept" in detail

    (letter,) = await dead_letters(kafka_bootstrap, topic_prefix, 1)
    headers = dict(letter.headers)
    assert letter.value == huge[:KEEP_BYTES]
    assert headers["ioc-original-bytes"] == str(len(huge)).encode()
    assert headers["ioc-truncated-to-bytes"] == str(KEEP_BYTES).encode()
    assert await scalar(clean_db, "SELECT count(*) FROM health_encounter") == 5

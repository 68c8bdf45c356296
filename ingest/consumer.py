"""The ingest worker: an aiokafka consumer group feeding the :class:`~ingest.writer.Writer`.

Offsets are committed to Kafka only after the database transaction has committed
(at-least-once delivery + idempotent writes = exactly-once effect). A crash between the two
means the batch is delivered again and deduplicated. The rebalance listener waits for the
batch in flight, so partitions never move while a batch is half written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from ingest.topics import ensure_topics
from ingest.writer import BatchResult, RawMessage, Writer

log = structlog.get_logger("ingest")


class FinishBatchOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hold a rebalance until the batch in flight has been written and its offsets committed."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            log.info("partitions revoked", partitions=sorted(str(tp) for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions assigned", partitions=sorted(str(tp) for tp in assigned))


async def consume(
    writer: Writer,
    *,
    bootstrap: str,
    topic_prefix: str,
    group_id: str,
    partitions: int = 3,
    max_records: int = 2000,
    timeout_ms: int = 500,
    stop: asyncio.Event | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> None:
    """Consume until ``stop`` is set (or the task is cancelled), then leave the group cleanly."""
    stop = stop or asyncio.Event()
    topics = await ensure_topics(bootstrap, topic_prefix, partitions)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    in_flight = asyncio.Lock()
    consumer.subscribe(topics, listener=FinishBatchOnRevoke(in_flight))
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
            if not batches:
                continue
            async with in_flight:
                messages = [
                    RawMessage(m.topic, m.partition, m.offset, m.key, m.value)
                    for records in batches.values()
                    for m in records
                ]
                result = await writer.write(messages)
                await consumer.commit({tp: recs[-1].offset + 1 for tp, recs in batches.items()})
            log.debug("batch", **vars(result))
            if on_batch:
                on_batch(result)
    finally:
        await consumer.stop()

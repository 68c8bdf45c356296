"""The ingest worker: an aiokafka consumer group feeding the :class:`~ingest.writer.Writer`.

Offsets are committed to Kafka only after the database transaction has committed
(at-least-once delivery + idempotent writes = exactly-once effect). A crash between the two
means the batch is delivered again and deduplicated; we chose this over storing offsets in
PostgreSQL because the dedupe key already makes redelivery harmless, and it keeps the group's
progress visible to standard Kafka tooling. The rebalance listener waits for the batch in
flight, so partitions never move while a batch is half written. Setting ``stop`` finishes
the batch in hand, commits it and leaves the group.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy.exc import OperationalError

from ingest import metrics
from ingest.deadletter import KafkaDeadLetters, RawMessage, dead_letter_topic
from ingest.maintenance import maintain
from ingest.topics import ensure_topics
from ingest.writer import BatchResult, Writer
from models.events import REGISTRY

log = structlog.get_logger("ingest")

MAINTENANCE_EVERY_S = 3600.0
RETRIES = 6


class FinishBatchOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hold a rebalance until the batch in flight has been written and its offsets committed."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            log.info("partitions revoked", **_summary(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions assigned", **_summary(assigned))


def _summary(partitions: set[TopicPartition]) -> dict[str, object]:
    """A short line even for a worker of every stream: the full list goes to debug logs."""
    log.debug("partitions", partitions=sorted(str(tp) for tp in partitions))
    return {"partitions": len(partitions), "topics": len({tp.topic for tp in partitions})}


def group_for(group_id: str, sectors: Collection[str] | None) -> str:
    """The consumer group of a worker limited to some sectors: one group per family set, so
    each family keeps its own offsets and scales on its own."""
    return f"{group_id}.{'+'.join(sorted(sectors))}" if sectors else group_id


def check_sectors(sectors: Collection[str]) -> list[str]:
    """The sectors named, each one a sector of the type registry, or ValueError."""
    known = sorted({t.sector for t in REGISTRY.values()})
    unknown = sorted(set(sectors) - set(known))
    if unknown:
        raise ValueError(f"unknown sector(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return sorted(set(sectors))


def write_health(path: Path, **status: object) -> None:
    """Atomically replace the health file (a probe reads whole files only)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(orjson.dumps({"at": datetime.now(UTC).isoformat(), **status}))
    tmp.replace(path)


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
    health_file: Path | None = None,
    retention_days: int | None = None,
    sectors: Collection[str] | None = None,
    session_timeout_ms: int = 10_000,
) -> None:
    """Consume until ``stop`` is set (or the task is cancelled), then leave the group cleanly.

    ``sectors`` limits the worker to those stream families (one service per family, same
    code); give each family its own ``group_id`` (see :func:`group_for`).
    ``session_timeout_ms`` is how long the group waits for a silent member; it also paces
    group joins on some brokers (Tansu). Apache Kafka refuses less than 6,000 by default.
    """
    stop = stop or asyncio.Event()
    topics = await ensure_topics(bootstrap, topic_prefix, partitions)
    if sectors:
        topics = [t for t in topics if t.split(".")[-2] in set(sectors)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=1_000,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    # acks=all without idempotence: the embedded broker has no idempotent producer.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    dead_letters = KafkaDeadLetters(producer, dead_letter_topic(topic_prefix))
    in_flight = asyncio.Lock()
    consumer.subscribe(topics, listener=FinishBatchOnRevoke(in_flight))
    next_maintenance = 0.0
    await producer.start()
    try:
        await consumer.start()
        try:
            while not stop.is_set():
                if time.monotonic() >= next_maintenance:
                    await _maintain(writer, retention_days)
                    next_maintenance = time.monotonic() + MAINTENANCE_EVERY_S
                batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
                if health_file:
                    write_health(health_file, status="ok", assigned=len(consumer.assignment()))
                if not batches:
                    continue
                started = time.perf_counter()
                async with in_flight:
                    messages = [
                        RawMessage(m.topic, m.partition, m.offset, m.key, m.value)
                        for records in batches.values()
                        for m in records
                    ]
                    result = await _write(writer, messages, dead_letters)
                    await consumer.commit({tp: recs[-1].offset + 1 for tp, recs in batches.items()})
                metrics.record(
                    result, Counter(m.topic for m in messages), time.perf_counter() - started
                )
                _record_lag(consumer, batches)
                log.debug(
                    "batch",
                    consumed=result.consumed,
                    inserted=result.inserted,
                    duplicates=result.duplicates,
                    rejected=result.rejected,
                )
                if on_batch:
                    on_batch(result)
        finally:
            await consumer.stop()  # leaves the group: partitions move at once, not on timeout
            if health_file:
                write_health(health_file, status="stopped")
    finally:
        await producer.stop()


async def _write(
    writer: Writer, messages: list[RawMessage], dead_letters: KafkaDeadLetters
) -> BatchResult:
    """Write the batch, retrying transient failures (database or broker unreachable) with
    backoff; anything else, or a failure that outlasts the retries, stops the worker with
    the batch uncommitted, to be redelivered after a restart."""
    for attempt in range(RETRIES):
        try:
            return await writer.write(messages, dead_letters)
        except (OperationalError, KafkaError) as exc:
            if attempt == RETRIES - 1:
                raise
            delay = min(30.0, 2.0**attempt)
            log.warning("batch failed, retrying", error=repr(exc), attempt=attempt + 1, delay=delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def _record_lag(consumer: AIOKafkaConsumer, batches: dict[TopicPartition, Any]) -> None:
    """Messages still behind each partition's end, as of this batch's fetch."""
    for tp, records in batches.items():
        end = consumer.highwater(tp)
        if end is not None:
            metrics.LAG.labels(tp.topic, str(tp.partition)).set(
                max(0, end - records[-1].offset - 1)
            )


async def _maintain(writer: Writer, retention_days: int | None) -> None:
    report = await maintain(writer.engine, now=datetime.now(UTC), retention_days=retention_days)
    if report.dropped or report.chunks_dropped:
        writer.forget_partitions()
    if report.created or report.dropped or report.chunks_dropped or report.keys_dropped:
        log.info(
            "partitions maintained",
            created=report.created,
            dropped=report.dropped,
            chunks_dropped=report.chunks_dropped,
            keys_dropped=report.keys_dropped,
        )

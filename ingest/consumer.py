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

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying

from ingest import metrics
from ingest.deadletter import KafkaDeadLetters, RawMessage, dead_letter_topic
from ingest.health import Health
from ingest.maintenance import Maintenance, maintain
from ingest.retry import is_transient, wait_out
from ingest.statistics import statistics_kept
from ingest.topics import ensure_topics
from ingest.writer import BatchResult, Writer
from models.events import REGISTRY

log = structlog.get_logger("ingest")

MAINTENANCE_EVERY_S = 3600.0


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


async def consume(
    writer: Writer,
    *,
    bootstrap: str,
    topic_prefix: str,
    group_id: str,
    partitions: int = 3,
    max_records: int = 8000,
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

    The database or the broker being down, at start or later, is waited out however long
    it lasts (:func:`~ingest.retry.wait_out`), with the worker reported unhealthy meanwhile
    (health file ``status``, ``ioc_ingest_healthy``, ``ioc_ingest_dependency_up``).
    """
    stop = stop or asyncio.Event()
    health = Health(health_file)
    health.starting()

    def patiently() -> AsyncRetrying:
        return wait_out(health.waiting, stop=stop)

    try:
        topics: list[str] = await patiently()(ensure_topics, bootstrap, topic_prefix, partitions)
        if sectors:
            chosen = {et.topic(topic_prefix) for et in REGISTRY.values() if et.sector in sectors}
            topics = [t for t in topics if t in chosen]
        producer: AIOKafkaProducer = await patiently()(_started_producer, bootstrap)
    except Exception as exc:
        if stop.is_set() and is_transient(exc):
            log.info("stopped before the broker could be reached")
            health.stopped()
            return
        raise
    dead_letters = KafkaDeadLetters(producer, dead_letter_topic(topic_prefix))
    in_flight = asyncio.Lock()
    listener = FinishBatchOnRevoke(in_flight)
    try:
        consumer: AIOKafkaConsumer | None = await patiently()(
            _started_consumer, bootstrap, topics, group_id, listener, session_timeout_ms, stop
        )
        if consumer is None:
            log.info("stopped while joining the consumer group: nothing consumed yet")
            return
        try:
            async with statistics_kept(writer.engine):
                await _loop(
                    consumer,
                    writer,
                    dead_letters,
                    in_flight,
                    health,
                    patiently,
                    stop,
                    max_records=max_records,
                    timeout_ms=timeout_ms,
                    on_batch=on_batch,
                    retention_days=retention_days,
                )
        finally:
            await consumer.stop()  # leaves the group: partitions move at once, not on timeout
    except Exception as exc:
        if not (stop.is_set() and is_transient(exc)):
            raise
        log.info("stopped while waiting out an outage: the batch in hand is left uncommitted")
    finally:
        health.stopped()
        await producer.stop()


async def _loop(
    consumer: AIOKafkaConsumer,
    writer: Writer,
    dead_letters: KafkaDeadLetters,
    in_flight: asyncio.Lock,
    health: Health,
    patiently: Callable[[], AsyncRetrying],
    stop: asyncio.Event,
    *,
    max_records: int,
    timeout_ms: int,
    on_batch: Callable[[BatchResult], None] | None,
    retention_days: int | None,
) -> None:
    next_maintenance = 0.0
    while not stop.is_set():
        if time.monotonic() >= next_maintenance:
            await _maintain(writer, retention_days, patiently)
            next_maintenance = time.monotonic() + MAINTENANCE_EVERY_S
        batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        health.ok(assigned=len(consumer.assignment()))
        if not batches:
            continue
        started = time.perf_counter()
        async with in_flight:
            messages = [
                RawMessage(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers))
                for records in batches.values()
                for m in records
            ]
            result: BatchResult = await patiently()(writer.write, messages, dead_letters)
            offsets = {tp: recs[-1].offset + 1 for tp, recs in batches.items()}
            await _commit(consumer, offsets, patiently)
        metrics.record(result, Counter(m.topic for m in messages), time.perf_counter() - started)
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


async def _started_producer(bootstrap: str) -> AIOKafkaProducer:
    # acks=all without idempotence: the embedded broker has no idempotent producer.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        await producer.start()
    except BaseException:
        await producer.stop()  # release its sockets before the next attempt
        raise
    return producer


async def _started_consumer(
    bootstrap: str,
    topics: list[str],
    group_id: str,
    listener: ConsumerRebalanceListener,
    session_timeout_ms: int,
    stop: asyncio.Event,
) -> AIOKafkaConsumer | None:
    """A consumer that has joined the group, or None if ``stop`` was set while it joined.

    A join takes the broker a while (the embedded one answers it about half a session
    timeout later). Stopping then has no membership to leave and no batch in hand, so the
    join is abandoned at once: its connections are closed first, since the consumer's own
    ``stop`` would otherwise wait for the broker's answer to the join in flight."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=1_000,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    consumer.subscribe(topics, listener=listener)
    starting = asyncio.ensure_future(consumer.start())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((starting, stopping), return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # a failed start raises here, and is abandoned below
            return consumer
    except BaseException:
        await _abandon(consumer, starting)
        raise
    finally:
        stopping.cancel()
    await _abandon(consumer, starting)
    return None


async def _abandon(consumer: AIOKafkaConsumer, starting: asyncio.Future[None]) -> None:
    """Close a consumer that is still joining (or failed to), without waiting on the broker."""
    starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    await consumer._client.close()  # fails the join in flight: nothing waits for its answer
    await consumer.stop()


async def _commit(
    consumer: AIOKafkaConsumer,
    offsets: dict[TopicPartition, int],
    patiently: Callable[[], AsyncRetrying],
) -> None:
    """Commit the batch's offsets, waiting out a broker outage. If the group has moved on
    meanwhile (this worker was away longer than the group allows), the commit is refused:
    the batch is then delivered again, to whichever worker owns it now, and deduplicated."""
    try:
        await patiently()(consumer.commit, offsets)
    except KafkaError as exc:
        if is_transient(exc):
            raise
        log.warning("offsets not committed: the batch will come again", error=repr(exc))


def _record_lag(consumer: AIOKafkaConsumer, batches: dict[TopicPartition, Any]) -> None:
    """Messages still behind each partition's end, as of this batch's fetch; a partition a
    rebalance took away while the batch was stored is no longer this worker's to report (and
    asking its end would raise)."""
    assigned = consumer.assignment()
    for tp, records in batches.items():
        if tp not in assigned:
            continue
        end = consumer.highwater(tp)
        if end is not None:
            metrics.LAG.labels(tp.topic, str(tp.partition)).set(
                max(0, end - records[-1].offset - 1)
            )


async def _maintain(
    writer: Writer, retention_days: int | None, patiently: Callable[[], AsyncRetrying]
) -> None:
    """Partition upkeep, waiting out an outage; any other failure is logged and tried again
    at the next round (the writer creates a missing partition on demand anyway)."""
    try:
        report: Maintenance = await patiently()(
            maintain, writer.engine, now=datetime.now(UTC), retention_days=retention_days
        )
    except Exception as exc:
        if is_transient(exc):
            raise
        log.error("partition maintenance failed, tried again in an hour", error=repr(exc))
        return
    if report.dropped or report.chunks_dropped:
        writer.forget_partitions()
    if report.created or report.dropped or report.chunks_dropped or report.keys_dropped:
        log.info(
            "partitions maintained",
            created=report.created,
            dropped=report.dropped,
            chunks_dropped=report.chunks_dropped,
            keys_dropped=report.keys_dropped,
            changes_dropped=report.changes_dropped,
        )

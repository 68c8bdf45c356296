"""The pipeline end to end, as deployed: simulate → Kafka → ingest → roll-ups.

The in-process writer bench (``bench.__main__.load``) hands the writer messages straight
from the simulators; this stage puts the broker back between them, on services of its
own (the embedded Kafka-protocol broker ``ioc demo`` runs, a PostgreSQL of its own):

1. **produce**: the simulators send ``days`` days of every stream through
   :class:`~simulators.sinks.KafkaSink` (what ``ioc simulate`` runs), keyed by source;
2. **consume + decode**: one consumer reads every message back and validates it as a
   worker does, writing nothing: the ingest target's ceiling is the lower of this and
   binary ``COPY`` (``bench.limits``);
3. **ingest**: one worker (:func:`ingest.consumer.consume`, the ``ioc ingest`` loop)
   consumes, validates and writes them, committing offsets after each batch, until every
   message sent is stored, a duplicate or a reject.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from bench.ingest_support import bench_database
from ingest.consumer import consume
from ingest.deadletter import DeadLetterSink, RawMessage
from ingest.topics import ensure_topics
from ingest.validation import Validator
from ingest.writer import BatchResult, Writer, collector_paused
from ioc.embedded import embedded_broker
from models.events import structured_from_kafka
from models.settings import Settings
from simulators.runner import backfill
from simulators.sinks import KafkaSink
from simulators.streams import make_streams

PREFIX = "bench"
PARTITIONS = 3
BATCH = Settings().batch_max_records
"""The ingest worker's batch, as deployed."""
PATIENCE_S = 600.0
"""How long the bench waits for a stage before it gives up on it."""


async def pipeline(first_day: datetime, days: int, scale: float, seed: int) -> dict[str, Any]:
    """Produce, read back and ingest ``days`` days from ``first_day`` (UTC instant of a
    local midnight); the figures of each stage."""
    with (
        tempfile.TemporaryDirectory(prefix="ioc-bench-broker-") as tmp,
        embedded_broker(Path(tmp)) as bootstrap,
    ):
        sink = KafkaSink(bootstrap, PREFIX, partitions=PARTITIONS)
        streams = make_streams(seed, scale=scale)
        started = time.perf_counter()
        try:
            sent = await backfill(streams, sink, first_day, first_day + timedelta(days=days))
        finally:
            await sink.close()
        produce_s = time.perf_counter() - started
        read_s = await _consume_and_decode(bootstrap, sent)
        ingest = await _ingest(bootstrap, sent)
    return {
        "days": days,
        "scale": scale,
        "events": sent,
        "simulate_and_produce_per_s": round(sent / produce_s),
        "consume_decode_per_s": round(sent / read_s),
        "ingest": ingest,
    }


async def _consume_and_decode(bootstrap: str, expected: int) -> float:
    """Seconds one consumer takes to read ``expected`` messages from the start of every
    topic and validate them in batches, as a worker does before it writes (group join
    excluded: the clock starts at the first batch)."""
    topics = await ensure_topics(bootstrap, PREFIX, PARTITIONS)
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    validator = Validator()
    await consumer.start()
    try:
        read, started = 0, None
        deadline = time.monotonic() + PATIENCE_S
        while read < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{read:,} of {expected:,} messages read in {PATIENCE_S:.0f} s")
            batches = await consumer.getmany(timeout_ms=500, max_records=BATCH)
            if not batches:
                continue
            started = started or time.perf_counter()
            with collector_paused():  # as the worker validates a batch
                raws = [
                    structured_from_kafka(m.headers, m.key, m.value)
                    for records in batches.values()
                    for m in records
                ]
                validator.parse_many(raws)
            read += len(raws)
        assert started is not None
        return time.perf_counter() - started
    finally:
        await consumer.stop()


class _TimedWriter(Writer):
    """The worker's writer, noting when the first batch reached it: the group join and the
    first fetch before it are a fixed cost, not the pipeline's rate."""

    first_write: float | None = None

    async def write(
        self, messages: Sequence[RawMessage], dead_letters: DeadLetterSink | None = None
    ) -> BatchResult:
        if self.first_write is None:
            self.first_write = time.perf_counter()
        return await super().write(messages, dead_letters)


async def _ingest(bootstrap: str, expected: int) -> dict[str, Any]:
    """One ingest worker on a fresh database until every message sent is accounted for.
    The rate is taken from the moment the first batch reached the writer to the end of the
    last, every batch's write included (a short run may be one batch of the worker's size)."""
    totals = BatchResult()
    rejected = 0
    done = asyncio.Event()

    def on_batch(result: BatchResult) -> None:
        nonlocal rejected
        totals.add_stored(result)
        totals.consumed += result.consumed
        rejected += sum(result.rejected.values())
        if totals.consumed >= expected:
            done.set()

    async with bench_database() as engine:
        writer = _TimedWriter(engine)
        started = time.perf_counter()
        worker = asyncio.create_task(
            consume(
                writer,
                bootstrap=bootstrap,
                topic_prefix=PREFIX,
                group_id="bench",
                partitions=PARTITIONS,
                max_records=BATCH,
                stop=done,
                on_batch=on_batch,
            )
        )
        await _until(done, worker)
        finished = time.perf_counter()
        await worker
    assert writer.first_write is not None
    seconds = finished - writer.first_write
    return {
        "events": totals.consumed,
        "stored": totals.inserted,
        "duplicates": totals.duplicates,
        "rejected": rejected,
        "seconds": round(finished - started, 2),
        "join_seconds": round(writer.first_write - started, 2),
        "events_per_s": round(totals.consumed / seconds),
    }


async def _until(done: asyncio.Event, worker: asyncio.Task[None]) -> None:
    """Wait for ``done``; a worker that fails first raises here instead of hanging."""
    waiting = asyncio.ensure_future(done.wait())
    try:
        await asyncio.wait(
            (waiting, worker), timeout=PATIENCE_S, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
    if worker.done():
        worker.result()  # raises the worker's failure
    if not done.is_set():
        worker.cancel()
        raise TimeoutError(f"ingest did not account for every message in {PATIENCE_S:.0f} s")

"""Reading the next batch while the current one is stored: the consumer's side of
:meth:`ingest.writer.Writer.prepare`.

A batch read ahead is prepared (validated, turned into rows, deltas summed) in a thread
while the event loop drives the current batch's transaction; nothing of it is stored or
committed until that transaction and its offsets are done, so the at-least-once contract
is the consumer's as before (:mod:`ingest.consumer`).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from ingest.deadletter import RawMessage
from ingest.health import Health
from ingest.prepared import Prepared
from ingest.writer import Writer

Records = dict[TopicPartition, list[Any]]
Batch = tuple[Records, Prepared]
"""Records per partition as the broker gave them, and the batch they make, prepared."""


async def read(
    consumer: AIOKafkaConsumer,
    writer: Writer,
    health: Health,
    timeout_ms: int,
    max_records: int,
    *,
    in_thread: bool = False,
) -> Batch | None:
    """The next batch from the broker, prepared (None if none came within ``timeout_ms``)."""
    records = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
    health.ok(assigned=len(consumer.assignment()))
    if not records:
        return None
    messages = _messages(records)
    if in_thread:
        return records, await asyncio.to_thread(writer.prepare, messages)
    return records, writer.prepare(messages)


def _messages(records: Records) -> list[RawMessage]:
    return [
        RawMessage(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers))
        for recs in records.values()
        for m in recs
    ]


def still_ours(consumer: AIOKafkaConsumer, writer: Writer, batch: Batch) -> Batch | None:
    """The batch without the partitions taken from this worker since it was read (a
    rebalance): their new owner reads them from the last committed offset."""
    records = batch[0]
    assigned = consumer.assignment()
    if all(tp in assigned for tp in records):
        return batch
    kept = {tp: recs for tp, recs in records.items() if tp in assigned}
    if not kept:
        return None
    return kept, writer.prepare(_messages(kept))


SWITCH_INTERVAL_S = 0.0005
"""How often Python hands its lock between threads (default 5 ms). A batch is prepared in
a thread while the event loop drives the database: the loop gets the lock back within this
long after each answer, rather than idling the database up to 5 ms per statement."""


def switch_often() -> None:
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))

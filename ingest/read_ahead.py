"""Reading the next batch while the current one is stored: the consumer's side of
:meth:`ingest.writer.Writer.prepare`.

A batch read ahead is prepared (validated, turned into rows, deltas summed) on the event
loop while the current batch's transaction waits on PostgreSQL; nothing of it is stored or
committed until that transaction and its offsets are done, so the at-least-once contract
is the consumer's as before (:mod:`ingest.consumer`).
"""

from __future__ import annotations

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
) -> Batch | None:
    """The next batch from the broker, prepared (None if none came within ``timeout_ms``)."""
    records = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
    health.ok(assigned=len(consumer.assignment()))
    if not records:
        return None
    return records, writer.prepare(_messages(records))


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

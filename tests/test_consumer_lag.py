"""Lag is reported only for the partitions a worker still holds: a rebalance while a batch
was stored takes some away, and asking a revoked partition's end raises in aiokafka (it
stopped a worker in the poison drill)."""

from __future__ import annotations

from typing import Any, cast

from aiokafka import TopicPartition
from aiokafka.consumer import AIOKafkaConsumer

from ingest import metrics
from ingest.consumer import _record_lag


class _Record:
    def __init__(self, offset: int) -> None:
        self.offset = offset


class _Consumer:
    """Unit-test stand-in: holds ``kept`` only, and raises as aiokafka does for others."""

    def __init__(self, kept: TopicPartition) -> None:
        self.kept = kept

    def assignment(self) -> set[TopicPartition]:
        return {self.kept}

    def highwater(self, tp: TopicPartition) -> int:
        assert tp == self.kept, "Partition is not assigned"
        return 100


def test_a_revoked_partition_is_skipped_and_the_kept_one_reported() -> None:
    kept, revoked = TopicPartition("ioc.lag-test", 0), TopicPartition("ioc.lag-test", 1)
    batches: dict[TopicPartition, Any] = {kept: [_Record(89)], revoked: [_Record(5)]}
    _record_lag(cast(AIOKafkaConsumer, _Consumer(kept)), batches)
    assert metrics.LAG.labels("ioc.lag-test", "0")._value.get() == 10

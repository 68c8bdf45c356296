"""Replay through the real broker: the topics end up holding exactly the recorded messages,
each source's in the order recorded."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from ingest.topics import ensure_topics
from models.events import topics
from simulators.faults import FaultInjector
from simulators.replay import read_messages, replay
from simulators.runner import backfill
from simulators.sinks import FileSink, KafkaSink, Outgoing
from simulators.streams import make_streams

START = datetime(2025, 10, 13, 1, tzinfo=UTC)  # Monday 08:00 local, rainy season
RECORDED = Path(__file__).parent / "data" / "stream-2025-10-12.jsonl.gz"


async def _consume_all(
    bootstrap: str, prefix: str, expected: int
) -> list[tuple[str, bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        *topics(prefix),
        bootstrap_servers=bootstrap,
        group_id=f"{prefix}-check",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    got: list[tuple[str, bytes, bytes]] = []
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + 90
        while len(got) < expected and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                got += [(tp.topic, r.key or b"", r.value or b"") for r in records]
        await asyncio.sleep(0.5)  # anything beyond the expected count would show up now
        for tp, records in (await consumer.getmany(timeout_ms=500)).items():
            got += [(tp.topic, r.key or b"", r.value or b"") for r in records]
    finally:
        await consumer.stop()
    return got


@pytest.mark.integration
async def test_replayed_faulty_recording_lands_exactly_as_recorded(
    tmp_path: Path, kafka_bootstrap: str, topic_prefix: str
) -> None:
    path = tmp_path / "faulty.jsonl.gz"
    rates = {"duplicates": 0.02, "out_of_order": 0.02, "malformed": 0.01, "late": 0.01}
    sink = FileSink(path)
    await backfill(
        make_streams(21, scale=0.2),
        sink,
        START,
        START + timedelta(hours=2),
        faults=FaultInjector(21, rates),
    )
    await sink.close()
    recorded = list(read_messages(path))
    assert len(recorded) > 1_000
    assert sum(not m.value.endswith(b"}") for m in recorded) > 0  # malformed lines survive

    await ensure_topics(kafka_bootstrap, topic_prefix, 3)
    producer = KafkaSink(kafka_bootstrap, topic_prefix)
    try:
        sent = await replay(path, producer)
    finally:
        await producer.close()
    assert sent == len(recorded)

    got = await _consume_all(kafka_bootstrap, topic_prefix, sent)
    assert sorted(v for _, _, v in got) == sorted(m.value for m in recorded)
    per_source_got: dict[tuple[str, bytes], list[bytes]] = defaultdict(list)
    for topic, key, value in got:
        per_source_got[(topic, key)].append(value)
    per_source_recorded: dict[tuple[str, bytes], list[bytes]] = defaultdict(list)
    for m in recorded:
        per_source_recorded[(f"{topic_prefix}.{m.event_type.split('.', 3)[3]}", m.key)].append(
            m.value
        )
    assert per_source_got == per_source_recorded


def test_the_recorded_golden_stream_is_whole() -> None:
    lines = gzip.decompress(RECORDED.read_bytes()).splitlines()
    assert len(lines) == len(list(read_messages(RECORDED))) == 7_245


class _Timed:
    def __init__(self) -> None:
        self.at: list[float] = []

    async def send(self, items: Sequence[Outgoing]) -> None:
        self.at += [time.monotonic()] * len(items)

    async def close(self) -> None:
        return None


async def test_replay_at_a_speed_factor_follows_event_time() -> None:
    """Two recorded days at 864,000× (two days in 0.2 s): paced, not all at once."""
    sink = _Timed()
    began = time.monotonic()
    sent = await replay(RECORDED, sink, speed=864_000)
    assert sent == 7_245
    assert 0.18 < sink.at[-1] - began < 5
    midway = sink.at[sent // 2] - began
    assert 0.03 < midway < sink.at[-1] - began


async def test_a_replay_that_keeps_pace_sends_whole_batches() -> None:
    """Messages already due go out together: a paced replay is not one send per message."""
    sink = _Timed()
    sends = 0
    send = sink.send

    async def counting(items: Sequence[Outgoing]) -> None:
        nonlocal sends
        sends += 1
        await send(items)

    sink.send = counting  # type: ignore[method-assign]
    assert await replay(RECORDED, sink, speed=1e12) == 7_245
    assert sends <= 7_245 // 2_000 + 2

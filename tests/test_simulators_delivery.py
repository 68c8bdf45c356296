"""On a broker failure the simulator says exactly what was delivered and what was not,
leaves no send unawaited, and a run resumed from the hour it names completes the range."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from ioc.embedded import embedded_broker
from models.events import topics
from simulators.runner import RunStats, backfill, collect
from simulators.sinks import DeliveryFailed, HttpSink, KafkaSink, Outgoing, encode
from simulators.streams import make_streams

START = datetime(2025, 3, 3, tzinfo=UTC)


@pytest.mark.integration
async def test_a_broker_gone_mid_run_is_reported_exactly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    docs = collect(make_streams(7, ["health"]), START, START + timedelta(hours=6))[:300]
    assert len(docs) == 300
    with embedded_broker(tmp_path / "broker") as bootstrap:
        sink = KafkaSink(bootstrap, "sim", partitions=1, request_timeout_ms=3_000)
        await sink.send(docs[:100])
    # the broker is gone now
    with caplog.at_level(logging.ERROR, logger="asyncio"), pytest.raises(DeliveryFailed) as failed:
        await sink.send(docs[100:])
    await sink.close()
    assert (failed.value.delivered, failed.value.undelivered) == (0, 200)
    assert failed.value.first_undelivered == min(str(d["time"]) for d in docs[100:])
    assert (sink.delivered, sink.undelivered) == (100, 200)
    del failed
    gc.collect()
    assert "never retrieved" not in caplog.text


class FailingSink:
    """Takes every message until ``fail_at`` have been sent, then fails one send part-way:
    what a broker that goes away mid-batch does to a sink."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at
        self.ids: list[str] = []

    async def send(self, items: Sequence[Outgoing]) -> None:
        room = self.fail_at - len(self.ids)
        taken = list(items)[: max(room, 0)]
        self.ids += [_id(i) for i in taken]
        if len(taken) < len(items):
            rest = [encode(i).time() for i in list(items)[len(taken) :]]
            raise DeliveryFailed(
                len(taken), len(items) - len(taken), min(t for t in rest if t), "gone"
            )

    async def close(self) -> None:
        pass


def _id(item: Outgoing) -> str:
    return str(item["id"]) if isinstance(item, dict) else encode(item).value.decode()


async def test_the_summary_counts_what_was_delivered_and_a_resume_completes_the_run() -> None:
    streams = make_streams(7, ["health", "tourism"])
    end = START + timedelta(hours=30)
    everything = {str(d["id"]) for d in collect(streams, START, end)}
    sink = FailingSink(fail_at=len(everything) // 2 + 3)
    stats = RunStats()
    with pytest.raises(DeliveryFailed):
        await backfill(streams, sink, START, end, stats=stats)
    assert stats.sent == len(sink.ids) == sink.fail_at
    assert stats.undelivered > 0
    assert stats.resume_from is not None and START < stats.resume_from < end

    resumed = FailingSink(fail_at=10**9)
    await backfill(make_streams(7, ["health", "tourism"]), resumed, stats.resume_from, end)
    assert set(sink.ids) | set(resumed.ids) == everything
    assert len(set(sink.ids) & set(resumed.ids)) < 2_000  # only the failed hour is sent again


@pytest.mark.integration
async def test_a_send_cut_short_counts_every_message_the_broker_took(kafka_bootstrap: str) -> None:
    """Ctrl-C lands while a chunk waits for its acks: the sink still counts what the broker
    took, so a stopped demo never reports more stored than sent."""
    prefix = f"cut{uuid.uuid4().hex[:8]}"
    docs = collect(make_streams(7, ["health"]), START, START + timedelta(hours=12))[:2_000]
    sink = KafkaSink(kafka_bootstrap, prefix, partitions=1)
    await sink.send(docs[:10])  # producer and topics ready: the next send is all in flight
    sending = asyncio.create_task(sink.send(docs[10:]))
    await asyncio.sleep(0)  # the messages are handed to the producer, no ack is back yet
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    await sink.close()  # flushes what was in flight
    assert sink.delivered == await _messages_on(kafka_bootstrap, prefix, sink.delivered)
    assert sink.delivered > 10


async def _messages_on(bootstrap: str, prefix: str, expected: int) -> int:
    """Every message on the run's topics, read until ``expected`` arrived (or 60 s) and a
    moment more, so a count above ``expected`` would show too."""
    consumer = AIOKafkaConsumer(
        *topics(prefix),
        bootstrap_servers=bootstrap,
        group_id=f"{prefix}-count",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        loop = asyncio.get_running_loop()
        count, deadline = 0, loop.time() + 60
        while count < expected and loop.time() < deadline:
            count += sum(len(r) for r in (await consumer.getmany(timeout_ms=500)).values())
        await asyncio.sleep(0.5)
        count += sum(len(r) for r in (await consumer.getmany(timeout_ms=500)).values())
        return count
    finally:
        await consumer.stop()


@pytest.mark.parametrize(
    ("failures", "retries", "delivered"), [(2, 3, True), (4, 3, False)], ids=["heals", "gives up"]
)
async def test_the_http_sink_retries_server_errors_then_raises(
    failures: int, retries: int, delivered: bool
) -> None:
    """5xx answers and failed connections are retried (up to ``retries`` times) under the
    one retry library; a 4xx is the gateway's verdict and is tallied, never retried."""
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(calls) <= failures:
            return httpx.Response(503)
        return httpx.Response(200, json={"accepted": 1, "rejected": 0})

    sink = HttpSink("http://gateway", "key", transport=httpx.MockTransport(answer), retries=retries)
    doc = collect(make_streams(1, ("citizen",)), START, START + timedelta(hours=6))[0]
    try:
        if delivered:
            await sink.send([doc])
            assert sink.verdicts["accepted"] == 1 and len(calls) == failures + 1
        else:
            with pytest.raises(httpx.HTTPStatusError):
                await sink.send([doc])
            assert len(calls) == retries + 1 and not sink.verdicts
    finally:
        await sink.close()


async def test_the_http_sink_tallies_a_refusal_without_retrying() -> None:
    calls: list[int] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(422, json={"detail": "no"})

    sink = HttpSink("http://gateway", "key", transport=httpx.MockTransport(refuse))
    doc = collect(make_streams(1, ("citizen",)), START, START + timedelta(hours=6))[0]
    try:
        await sink.send([doc])
    finally:
        await sink.close()
    assert len(calls) == 1 and sink.rejected_requests == 1 and sink.responses[422] == 1

"""Plain async builders and waits shared by the integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.consumer import consume
from ingest.deadletter import RawMessage, dead_letter_topic
from ingest.writer import BatchResult, Writer
from models.events import dump_event
from models.settings import Settings
from simulators.base import EventDoc

HANG_GUARD = 30.0
"""Seconds after which a wait gives up, so a broken stream fails instead of hanging the
suite. Only a guard, never a claim about speed: a loaded machine may take seconds."""
SESSION_TIMEOUT_MS = 6_000
"""The least Apache Kafka accepts by default: the embedded broker completes a group join
in about half the session timeout, and a rejoin after a crash waits one more."""


@dataclass
class Seen:
    """What a running consumer has processed so far."""

    consumed: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: list[BatchResult] = field(default_factory=list)

    def add(self, result: BatchResult) -> None:
        self.batches.append(result)
        self.consumed += result.consumed
        self.inserted += result.inserted
        self.duplicates += result.duplicates
        self.rejected += sum(result.rejected.values())


@contextlib.asynccontextmanager
async def running_consumer(
    engine: AsyncEngine, bootstrap: str, prefix: str, group: str | None = None
) -> AsyncIterator[Seen]:
    seen = Seen()
    stop = asyncio.Event()
    task = asyncio.create_task(
        consume(
            Writer(engine),
            bootstrap=bootstrap,
            topic_prefix=prefix,
            group_id=group or f"{prefix}-ingest",
            timeout_ms=200,
            stop=stop,
            on_batch=seen.add,
            session_timeout_ms=SESSION_TIMEOUT_MS,
        )
    )
    try:
        yield seen
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@contextlib.asynccontextmanager
async def app_client(
    database_url: str, kafka_bootstrap: str | None = None, settings: Settings | None = None
) -> AsyncIterator[AsyncClient]:
    """The API in-process, its lifespan run (engine, broker client, live-stream hub made and
    closed as in production), and an httpx client over ASGI; ``client.app`` is the app, for
    a test that reaches its state."""
    from app.main import create_app

    app = create_app(database_url, kafka_bootstrap, settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client


class Crash(Exception):
    """The worker dies after the database commit, before the offsets are committed."""


class CrashAfterCommit(Writer):
    """Stores a batch as the real writer does, then dies; ``stored`` counts what it stored."""

    stored = 0

    async def write(
        self, messages: Sequence[RawMessage], dead_letters: object = None
    ) -> BatchResult:
        result = await super().write(messages)
        self.stored = result.inserted
        raise Crash


async def crash_after_first_commit(
    engine: AsyncEngine, bootstrap: str, prefix: str, group: str, max_records: int
) -> int:
    """Run a worker of ``group`` that dies after its first batch's database commit, before
    its offset commit; returns how many events that batch stored."""
    crashing = CrashAfterCommit(engine)
    try:
        await consume(
            crashing,
            bootstrap=bootstrap,
            topic_prefix=prefix,
            group_id=group,
            max_records=max_records,
            timeout_ms=200,
            session_timeout_ms=SESSION_TIMEOUT_MS,
        )
    except Crash:
        return crashing.stored
    raise AssertionError("the worker stopped without its crash")


async def send_raw(
    bootstrap: str,
    topic: str,
    messages: Sequence[tuple[bytes, Sequence[tuple[str, bytes]]]],
    key: bytes = b"his/x",
    **config: Any,
) -> None:
    """Send messages as they are (bytes and headers, no contract): what a faulty producer
    puts on the topic."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **config)
    await producer.start()
    try:
        for value, headers in messages:
            await producer.send_and_wait(topic, value, key=key, headers=list(headers))
    finally:
        await producer.stop()


async def dead_letters(
    bootstrap: str, prefix: str, count: int, seconds: float = 30.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first ``count`` messages of the dead-letter topic of ``prefix``'s ingest."""
    letters = AIOKafkaConsumer(
        dead_letter_topic(prefix),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await letters.start()
    try:
        return [await asyncio.wait_for(letters.getone(), seconds) for _ in range(count)]
    finally:
        await letters.stop()


async def wait_for(
    predicate: Callable[[], bool | Awaitable[bool]],
    seconds: float = 60.0,
    what: str = "it",
    interval: float = 0.1,
) -> None:
    """Poll ``predicate`` (plain, or a coroutine function such as a database count) until
    it holds; AssertionError after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        held = predicate()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(interval)


async def write_docs(engine: AsyncEngine, docs: Sequence[EventDoc], batch: int = 2_000) -> int:
    """Store event documents through the ingest writer, ``batch`` at a time, as one
    partition's consecutive offsets would arrive; how many were stored (not duplicates)."""
    writer, inserted = Writer(engine), 0
    for start in range(0, len(docs), batch):
        chunk = docs[start : start + batch]
        messages = [RawMessage("t", 0, start + i, None, dump_event(d)) for i, d in enumerate(chunk)]
        inserted += (await writer.write(messages)).inserted
    return inserted


async def scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql)) or 0)

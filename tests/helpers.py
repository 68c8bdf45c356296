"""Plain async builders and waits shared by the integration tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.consumer import consume
from ingest.writer import BatchResult, Writer

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


async def wait_for(predicate: Callable[[], bool], seconds: float = 60.0, what: str = "it") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.1)


async def scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql)) or 0)

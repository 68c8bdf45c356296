"""Live push under load: many SSE clients, a batch written, the time until each has it.

Timed from the start of the batch's write (its commit lies inside it), so the figure is an
upper bound of commit → client. A push counts for a batch only if its stream id is above the
newest id logged before the write (the evaluator logs one publish at a time, so ids follow
commits): a late push of an earlier batch never passes for this one. A client that has no
push of the batch within ``GIVE_UP_SECONDS`` counts as missed — never delivered, not merely
slow (a slow push shows in the latencies instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.deadletter import RawMessage
from ingest.writer import Writer
from models.events import dump_event
from tests import ingest_builders as b

GIVE_UP_SECONDS = 60.0
"""How long a batch's push is awaited before the clients still without it count as missed."""


async def newest_id(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT coalesce(max(id), 0) FROM stream_event")) or 0)


async def settled_log(engine: AsyncEngine) -> int:
    """The newest stream id once the evaluator has stopped logging the previous batch's
    updates (unchanged for a second)."""
    newest = await newest_id(engine)
    async with asyncio.timeout(GIVE_UP_SECONDS):
        while True:
            await asyncio.sleep(1)
            if (now := await newest_id(engine)) == newest:
                return newest
            newest = now


async def sse_latency(
    engine: AsyncEngine, base: str, *, clients: int, batches: int
) -> dict[str, float | int]:
    """p50/p95/max of commit → client for ``batches`` commits seen by ``clients`` streams."""
    received: list[list[float]] = [[] for _ in range(clients)]
    resets = 0
    ready = asyncio.Event()
    arrived = asyncio.Event()
    connected = 0
    floor = 0  # the newest stream id logged before the current batch's write

    async def listen(k: int, client: httpx.AsyncClient) -> None:
        nonlocal connected, resets
        url = "/api/v1/stream?indicator=health.encounters"
        event_id = 0
        async with client.stream("GET", url) as answer:
            connected += 1
            if connected == clients:
                ready.set()
            async for line in answer.aiter_lines():
                if line.startswith("id: "):
                    event_id = int(line[4:])
                elif line == "event: indicator" and event_id > floor:
                    received[k].append(time.time())
                    if all(received):
                        arrived.set()
                elif line == "event: reset":
                    resets += 1

    limits = httpx.Limits(max_connections=clients + 5, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as client:
        tasks = [asyncio.create_task(listen(k, client)) for k in range(clients)]
        await asyncio.wait_for(ready.wait(), 60)
        await asyncio.sleep(1)
        writer = Writer(engine)
        latencies: list[float] = []
        for n in range(batches):
            now = datetime.now(UTC).replace(microsecond=0)
            docs = [b.encounter(now, 10_000 * n + i) for i in range(50)]
            floor = await settled_log(engine)
            for got in received:
                got.clear()
            arrived.clear()
            write_started = time.time()
            await writer.write(
                [RawMessage("bench", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), GIVE_UP_SECONDS)
            latencies += [got[0] - write_started for got in received if got]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task
    latencies.sort()
    expected = clients * batches
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)  # noqa: E731
    return {
        "clients": clients,
        "batches": batches,
        "delivered": len(latencies),
        "missed": expected - len(latencies),
        "resets": resets,
        "p50_ms": pick(0.5) if latencies else -1,
        "p95_ms": pick(0.95) if latencies else -1,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else -1,
    }

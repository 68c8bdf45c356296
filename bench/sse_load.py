"""Live push under load: many SSE clients, a batch written, the time until each has it.

Timed from the batch's commit: the moment its change notice reaches a listener of the bench's
own (PostgreSQL delivers a ``NOTIFY`` at the sender's commit), and also from the start of
the write (which adds the write itself: partitions, roll-ups). A push counts for a batch only
if its stream id is above the newest id logged before the write (the evaluator logs one
publish at a time, so ids follow commits): a late push of an earlier batch never passes for
this one. A client that has no push of the batch within ``GIVE_UP_SECONDS`` counts as missed —
never delivered, not merely slow (a slow push shows in the latencies instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.stream.repository import notices
from ingest.deadletter import RawMessage
from ingest.writer import Writer
from models.events import dump_event
from models.notify import ChangeNotice
from models.units import commune_codes
from tests import ingest_builders as b

STREAM_URL = "/api/v1/stream?indicator=health.encounters"
GIVE_UP_SECONDS = 60.0
"""How long a batch's push is awaited before the clients still without it count as missed."""


class AllOpen(asyncio.Event):
    """Set once every one of ``clients`` streams has opened (each calls :meth:`opened`)."""

    def __init__(self, clients: int) -> None:
        super().__init__()
        self._left = clients

    def opened(self) -> None:
        self._left -= 1
        if self._left == 0:
            self.set()


async def messages(
    client: httpx.AsyncClient, opened: Callable[[], None]
) -> AsyncIterator[tuple[int, str, str]]:
    """The encounters stream's messages as (last id, event, data), each yielded at its
    closing blank line; ``opened`` is called once the response has started."""
    async with client.stream("GET", STREAM_URL) as answer:
        opened()
        event_id, kind, data = 0, "", ""
        async for line in answer.aiter_lines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif not line and kind:
                yield event_id, kind, data
                kind, data = "", ""


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


def percentiles(latencies: list[float], prefix: str = "") -> dict[str, float]:
    """p50/p95/max in milliseconds (-1 when nothing arrived)."""
    ordered = sorted(latencies)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)  # noqa: E731
    return {
        f"{prefix}p50_ms": pick(0.5) if ordered else -1,
        f"{prefix}p95_ms": pick(0.95) if ordered else -1,
        f"{prefix}max_ms": round(ordered[-1] * 1000, 1) if ordered else -1,
    }


async def commits(database_url: str, into: list[float], listening: asyncio.Event) -> None:
    """Record when each change notice arrives: its batch's commit."""
    async for _ in notices(database_url, listening):
        into.append(time.time())


async def sse_latency(
    engine: AsyncEngine, database_url: str, base: str, *, clients: int, batches: int
) -> dict[str, float | int]:
    """p50/p95/max of commit → client (and write → client) for ``batches`` commits seen by
    ``clients`` streams."""
    received: list[list[float]] = [[] for _ in range(clients)]
    resets = 0
    ready = AllOpen(clients)
    arrived = asyncio.Event()
    floor = 0  # the newest stream id logged before the current batch's write

    async def listen(k: int, client: httpx.AsyncClient) -> None:
        nonlocal resets
        async for event_id, kind, _ in messages(client, ready.opened):
            if kind == "indicator" and event_id > floor:
                received[k].append(time.time())
                if all(received):
                    arrived.set()
            elif kind == "reset":
                resets += 1

    limits = httpx.Limits(max_connections=clients + 5, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as client:
        tasks = [asyncio.create_task(listen(k, client)) for k in range(clients)]
        await asyncio.wait_for(ready.wait(), 60)
        await asyncio.sleep(1)
        committed: list[float] = []
        listening = asyncio.Event()
        watcher = asyncio.create_task(commits(database_url, committed, listening))
        await asyncio.wait_for(listening.wait(), 60)
        writer = Writer(engine)
        latencies: list[float] = []
        from_commit: list[float] = []
        for n in range(batches):
            now = datetime.now(UTC).replace(microsecond=0)
            docs = [b.encounter(now, 10_000 * n + i) for i in range(50)]
            floor = await settled_log(engine)
            for got in received:
                got.clear()
            arrived.clear()
            committed.clear()
            write_started = time.time()
            await writer.write(
                [RawMessage("bench", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), GIVE_UP_SECONDS)
            latencies += [got[0] - write_started for got in received if got]
            if committed:
                from_commit += [got[0] - committed[0] for got in received if got]
        watcher.cancel()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    return {
        "clients": clients,
        "batches": batches,
        "delivered": len(latencies),
        "missed": clients * batches - len(latencies),
        "resets": resets,
        **percentiles(from_commit),
        **percentiles(latencies, "write_"),
    }


async def sse_live_latency(
    engine: AsyncEngine,
    database_url: str,
    base: str,
    *,
    clients: int,
    batches: int,
    interval: float,
) -> dict[str, float | int]:
    """commit → client while ingest keeps committing: a batch every ``interval`` seconds,
    none waiting for the one before to be pushed, as a live feed does. Each batch lands in a
    commune of its own, so a client knows which batch a value is (the first value of that
    commune), and its commit is when its change notice, naming that commune, arrived."""
    communes = sorted(commune_codes())[:batches]
    seen: list[dict[str, float]] = [{} for _ in range(clients)]
    committed: dict[str, float] = {}
    ready = AllOpen(clients)

    async def listen(k: int, client: httpx.AsyncClient) -> None:
        async for _, kind, data in messages(client, ready.opened):
            if kind == "indicator":
                value = orjson.loads(data)
                if value.get("level") == "commune":
                    seen[k].setdefault(value["unit_code"], time.time())

    async def watch(listening: asyncio.Event) -> None:
        async for payload in notices(database_url, listening):
            for commune in ChangeNotice.model_validate_json(payload).communes:
                committed.setdefault(commune, time.time())

    limits = httpx.Limits(max_connections=clients + 5, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as client:
        tasks = [asyncio.create_task(listen(k, client)) for k in range(clients)]
        listening = asyncio.Event()
        tasks.append(asyncio.create_task(watch(listening)))
        await asyncio.wait_for(asyncio.gather(ready.wait(), listening.wait()), 60)
        await settled_log(engine)
        writer = Writer(engine)
        for n, commune in enumerate(communes):
            await feed_batch(writer, n, commune)
            await asyncio.sleep(interval)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(GIVE_UP_SECONDS):
                while not all(len(got) >= len(communes) for got in seen):  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task
    latencies = [
        got[c] - committed[c] for got in seen for c in communes if c in got and c in committed
    ]
    return {
        "clients": clients,
        "batches": len(communes),
        "interval_s": interval,
        "delivered": len(latencies),
        "missed": clients * len(communes) - len(latencies),
        **percentiles(latencies),
    }


async def feed_batch(writer: Writer, n: int, commune: str) -> None:
    """The live feed's ``n``-th batch: 50 encounters in ``commune``, timed now, committed."""
    now = datetime.now(UTC).replace(microsecond=0)
    docs = [b.encounter(now, 10_000 * n + i, subject=commune) for i in range(50)]
    await writer.write([RawMessage("bench", 0, i, None, dump_event(d)) for i, d in enumerate(docs)])


async def feed(engine: AsyncEngine, interval: float, stop: asyncio.Event) -> int:
    """A live feed until ``stop``: a batch every ``interval`` seconds, each in the next
    commune; returns how many were committed."""
    writer, communes, n = Writer(engine), sorted(commune_codes()), 0
    while not stop.is_set():
        await feed_batch(writer, n % 100, communes[n % len(communes)])
        n += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
    return n

"""Drive streams into a sink: a historical backfill as fast as the sink takes it, then live.

Live mode emits, every tick, the events whose time has just passed; because generation is
seeded per hour, the live events are exactly those a later backfill of the same hours gives.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from simulators.base import EventDoc, Stream, events_between
from simulators.sinks import EventSink

Progress = Callable[[int, datetime], None]
BATCH = 2_000


def utcnow() -> datetime:
    return datetime.now(UTC)


async def backfill(
    streams: Sequence[Stream],
    sink: EventSink,
    start: datetime,
    end: datetime,
    progress: Progress | None = None,
) -> int:
    """Send every event in ``[start, end)``; return how many were sent."""
    sent = 0
    events = events_between(streams, start, end)
    while batch := list(itertools.islice(events, BATCH)):
        await sink.send(batch)
        sent += len(batch)
        if progress:
            progress(sent, datetime.fromisoformat(batch[-1]["time"]))
        await asyncio.sleep(0)  # let the consumer and the API breathe in a one-process demo
    return sent


async def live(
    streams: Sequence[Stream],
    sink: EventSink,
    start: datetime,
    tick_seconds: float = 1.0,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Catch up from ``start`` to now, then keep emitting what happens, tick by tick."""
    cursor, sent = start, 0
    while True:
        now = clock()
        if now > cursor:
            sent += await backfill(streams, sink, cursor, now)
            cursor = now
            if progress:
                progress(sent, now)
        await asyncio.sleep(tick_seconds)


def collect(streams: Sequence[Stream], start: datetime, end: datetime) -> list[EventDoc]:
    """All events of a range in memory (tests and small exports)."""
    return list(events_between(streams, start, end))

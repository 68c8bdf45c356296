"""Drive streams into a sink: a historical backfill (as fast as the sink takes it, or paced at
a speed factor), then live.

Live mode emits, every tick, the events whose time has just passed; because generation is
seeded per hour, the live events are exactly those a later backfill of the same hours gives.
Faults, when asked for, are applied hour by hour between generation and the sink.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from simulators.base import HOUR, EventDoc, Stream, event_time, events_between, hours
from simulators.faults import FaultInjector
from simulators.sinks import DeliveryFailed, EventSink, Outgoing

Progress = Callable[[int, datetime], None]
BATCH = 2_000


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunStats:
    """What a run generated (per event type), what the sink took, and which faults it
    injected. After a broker failure, ``undelivered`` counts the messages of the failed send
    and ``resume_from`` is the hour to run again from (``--from``): generation is seeded
    per hour and ingest de-duplicates, so re-sending that hour's delivered events is harmless.
    """

    generated: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    undelivered: int = 0
    resume_from: datetime | None = None
    faults: Counter[str] = field(default_factory=Counter)


def hour_batches(
    streams: Sequence[Stream], start: datetime, end: datetime
) -> Iterator[tuple[datetime, list[EventDoc]]]:
    """Per hour of ``[start, end)``: that hour's events of all streams, in time order."""
    for hour_start in hours(start, end):
        batch = [e for s in streams for e in s.events_for_hour(hour_start)]
        batch.sort(key=event_time)
        if hour_start < start or hour_start + HOUR > end:
            batch = [e for e in batch if start <= event_time(e) < end]
        yield hour_start, batch


@dataclass
class Pacer:
    """Sleeps so that simulated time runs ``speed`` times as fast as the wall clock."""

    speed: float | None
    sim_start: datetime
    wall_start: float = field(default_factory=time.monotonic)

    def delay(self, sim_time: datetime) -> float:
        """Wall seconds until ``sim_time`` is due (0 or less: due already)."""
        if not self.speed:
            return 0.0
        due = self.wall_start + (sim_time - self.sim_start).total_seconds() / self.speed
        return due - time.monotonic()

    async def wait_for(self, sim_time: datetime) -> None:
        delay = self.delay(sim_time)
        if delay > 0:
            await asyncio.sleep(delay)


async def backfill(
    streams: Sequence[Stream],
    sink: EventSink,
    start: datetime,
    end: datetime,
    progress: Progress | None = None,
    *,
    faults: FaultInjector | None = None,
    speed: float | None = None,
    stats: RunStats | None = None,
    flush: bool = True,
) -> int:
    """Send every event in ``[start, end)`` (with faults if given); return messages sent.

    ``flush`` sends the late events still held back at the end (a finished run); live
    mode keeps holding them for the ticks to come.
    """
    stats = stats if stats is not None else RunStats()
    pacer = Pacer(speed, start)
    sent = 0
    for hour_start, events in hour_batches(streams, start, end):
        stats.generated.update(e["type"] for e in events)
        out: list[Outgoing] = list(events) if faults is None else faults.apply(hour_start, events)
        for i in range(0, len(out), BATCH):
            chunk = out[i : i + BATCH]
            at = _first_time(chunk) or hour_start
            await pacer.wait_for(at)
            await _send(sink, chunk, stats, hour_start)
            sent += len(chunk)
            if progress:
                progress(sent, min(at, end))
            await asyncio.sleep(0)  # let the consumer and the API breathe in a one-process demo
    if faults is not None:
        rest = faults.flush() if flush else []
        if rest:
            await _send(sink, rest, stats, start)  # late events of any hour since start
            sent += len(rest)
        stats.faults = faults.counts
    if progress:
        progress(sent, end)
    return sent


async def _send(
    sink: EventSink, chunk: list[Outgoing], stats: RunStats, hour_start: datetime
) -> None:
    """Send one chunk and count it; on a delivery failure, count exactly what the broker took
    and note the hour to resume from, then let the failure end the run."""
    try:
        await sink.send(chunk)
    except DeliveryFailed as exc:
        stats.sent += exc.delivered
        stats.undelivered += exc.undelivered
        stats.resume_from = hour_start
        raise
    stats.sent += len(chunk)


def _first_time(chunk: list[Outgoing]) -> datetime | None:
    first = chunk[0] if chunk else None
    return event_time(first) if isinstance(first, dict) and first else None


async def live(
    streams: Sequence[Stream],
    sink: EventSink,
    start: datetime,
    tick_seconds: float = 1.0,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = utcnow,
    *,
    faults: FaultInjector | None = None,
    stats: RunStats | None = None,
) -> None:
    """Catch up from ``start`` to now, then keep emitting what happens, tick by tick."""
    cursor, sent = start, 0
    while True:
        now = clock()
        if now > cursor:
            sent += await backfill(
                streams, sink, cursor, now, faults=faults, stats=stats, flush=False
            )
            cursor = now
            if progress:
                progress(sent, now)
        await asyncio.sleep(tick_seconds)


def sped_up_clock(start: datetime, speed: float) -> Callable[[], datetime]:
    """A clock that starts at ``start`` and runs ``speed`` times faster than real time."""
    wall0 = time.monotonic()
    return lambda: start + (time.monotonic() - wall0) * speed * HOUR / 3600


def collect(streams: Sequence[Stream], start: datetime, end: datetime) -> list[EventDoc]:
    """All events of a range in memory (tests and small exports)."""
    return list(events_between(streams, start, end))

"""Replay a recorded stream file (JSON lines, optionally gzip) into a sink.

Lines are sent as recorded, bytes untouched (a recorded fault stays a fault), in file
order; the Kafka sink keys by source, so each source's events keep their order. With a
speed factor the replay is paced by the events' own times (3600 = an hour a second);
lines whose time cannot be read go out at once.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from simulators.runner import BATCH, Pacer
from simulators.sinks import EventSink, Message

Progress = Callable[[int], None]


def read_messages(path: Path) -> Iterator[Message]:
    """Every non-empty line of a recorded file, routed by the type and source it carries."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as lines:
        for line in lines:
            value = line.rstrip(b"\r\n")
            if value:
                yield Message.from_raw(value)


def _time(message: Message) -> datetime | None:
    text = message.time()
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


async def replay(
    path: Path, sink: EventSink, speed: float | None = None, progress: Progress | None = None
) -> int:
    """Send the file's messages to ``sink``; return how many were sent."""
    pacer: Pacer | None = None
    batch: list[Message] = []
    sent = 0
    for message in read_messages(path):
        at = _time(message) if speed else None
        if at is not None:
            if pacer is None:
                pacer = Pacer(speed, at)
            elif pacer.delay(at) > 0:  # only a wait cuts a batch short
                if batch:
                    await sink.send(batch)
                    sent, batch = sent + len(batch), []
                await pacer.wait_for(at)
        batch.append(message)
        if len(batch) >= BATCH:
            await sink.send(batch)
            sent, batch = sent + len(batch), []
            if progress:
                progress(sent)
    if batch:
        await sink.send(batch)
        sent += len(batch)
    if progress:
        progress(sent)
    return sent

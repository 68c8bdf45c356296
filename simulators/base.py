"""What every sector stream has in common: deterministic generation, one hour at a time.

Each hour's events come from a random generator seeded by ``(seed, stream, hour)``, so any
time range can be generated in any order, by backfill or live, and always gives the same
events with the same ids: a re-run is a replay, and the ingest dedupes it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

HOUR = timedelta(hours=1)
EventDoc = dict[str, Any]


class Stream(Protocol):
    """A simulated source system family; ``name`` is what ``--streams`` selects."""

    name: str

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        """All events whose time falls in ``[hour_start, hour_start + 1 h)``."""
        ...


def hour_rng(seed: int, stream: str, hour_start: datetime) -> np.random.Generator:
    stream_key = int.from_bytes(hashlib.blake2b(stream.encode(), digest_size=4).digest())
    hour_index = int(hour_start.timestamp()) // 3600
    return np.random.default_rng(np.random.SeedSequence([seed, stream_key, hour_index]))


def event_ids(rng: np.random.Generator, n: int) -> list[uuid.UUID]:
    """Random (version 4) UUIDs drawn from ``rng``, hence reproducible."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return [uuid.UUID(bytes=row.tobytes()) for row in raw]


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hours(start: datetime, end: datetime) -> Iterator[datetime]:
    """Hour starts covering ``[start, end)``."""
    cursor = floor_hour(start)
    while cursor < end:
        yield cursor
        cursor += HOUR


def event_time(event: EventDoc) -> datetime:
    return datetime.fromisoformat(event["time"])


def events_between(streams: Sequence[Stream], start: datetime, end: datetime) -> Iterator[EventDoc]:
    """Events of all streams with ``start <= time < end``, hour by hour, in time order."""
    for hour_start in hours(start, end):
        batch = [e for s in streams for e in s.events_for_hour(hour_start)]
        batch.sort(key=event_time)
        partial = hour_start < start or hour_start + HOUR > end
        for event in batch:
            if partial and not start <= event_time(event) < end:
                continue
            yield event

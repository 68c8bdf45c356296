"""What every sector stream has in common: deterministic generation, one hour at a time.

Each hour's events come from a random generator seeded by ``(seed, stream, hour)``, so any
time range can be generated in any order, by backfill or live, and always gives the same
events with the same ids: a re-run is a replay, and the ingest dedupes it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from models.clock import floor_hour

HOUR = timedelta(hours=1)
EventDoc = dict[str, Any]


class Stream(Protocol):
    """A simulated source system family; ``name`` is what ``--streams`` selects."""

    name: str

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        """All events whose time falls in ``[hour_start, hour_start + 1 h)``."""
        ...


@dataclass
class SeededStream:
    """What every generated stream is set up with: its seed and a volume factor (1 = the
    province's real volume)."""

    seed: int
    scale: float = 1.0

    def __post_init__(self) -> None:
        """Streams prepare their tables here (declared so subclasses' inits call it)."""


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


# --- Shared, vectorised building blocks for the sector streams ---------------------------

LOCAL_OFFSET_MS = 7 * 3_600_000
"""Việt Nam keeps UTC+7 all year (no daylight saving), so local time is a fixed offset."""


def hour_clock(hour_start: datetime) -> tuple[int, datetime]:
    """An hour's start in epoch milliseconds, and as the province's wall time (naive)."""
    start_ms = int(hour_start.timestamp() * 1000)
    return start_ms, datetime.fromtimestamp((start_ms + LOCAL_OFFSET_MS) / 1000, UTC).replace(
        tzinfo=None
    )


def iso_times(epoch_ms: np.ndarray) -> list[str]:
    """Event times as ISO-8601 local time with offset (``…T08:15:30.123+07:00``), vectorised."""
    local = (np.asarray(epoch_ms, dtype=np.int64) + LOCAL_OFFSET_MS).astype("datetime64[ms]")
    return [s + "+07:00" for s in np.datetime_as_string(local, unit="ms").tolist()]


def id_strings(rng: np.random.Generator, n: int) -> list[str]:
    """Version-4 UUID strings drawn from ``rng`` (the same bits as :func:`event_ids`)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    out = []
    for row in raw:
        h = row.tobytes().hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def envelope(
    event_type: str, event_id: str, source: str, time: str, subject: str, data: dict[str, Any]
) -> EventDoc:
    """One CloudEvent document, built directly (the hot path skips pydantic; tests validate)."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event_type,
        "time": time,
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    }


def hour_weights(*parts: Sequence[float]) -> np.ndarray:
    """A 24-value local-hour profile (given in pieces, concatenated) normalised to sum to 1."""
    arr = np.concatenate([np.asarray(p, dtype=float) for p in parts])
    if arr.shape != (24,):
        raise ValueError(f"an hour profile has 24 values, not {arr.shape}")
    out: np.ndarray = arr / arr.sum()
    return out

"""Faults real feeds have, injected on request, each at its own rate.

- ``duplicates`` (per event): the same bytes are sent again, a little later;
- ``out_of_order`` (per event): sent after events that happened later (same hour);
- ``late`` (per event): held back 1 h – 3 days, then sent (event time kept);
- ``malformed`` (per event): bytes cut short, not JSON any more;
- ``schema`` (per event): a required payload field set to ``null``;
- ``unknown_commune`` (per event): ``subject`` is a commune code that does not exist;
- ``silent`` (per source and local day): nothing from some hour until midnight;
- ``clock_skew`` (per source and local day): the clock is off by 2–30 min all day.

Everything is drawn from generators seeded by ``(seed, hour)`` or ``(seed, source, day)``,
so a faulty run is as reproducible as a clean one. Faulty events leave as
:class:`~simulators.sinks.Message` bytes; clean ones stay documents.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from simulators.base import EventDoc, event_time, hour_rng
from simulators.sinks import Message, Outgoing

FAULT_KINDS = (
    "duplicates",
    "out_of_order",
    "late",
    "malformed",
    "schema",
    "unknown_commune",
    "silent",
    "clock_skew",
)
LATE_HOURS = (1.0, 72.0)


def parse_faults(specs: Iterable[str]) -> dict[str, float]:
    """``["duplicates=0.01", "late=0.005"]`` → rates; unknown kinds and bad rates raise."""
    rates: dict[str, float] = {}
    for spec in specs:
        for part in spec.split(","):
            kind, _, value = part.strip().partition("=")
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
            rate = float(value) if value else 0.01
            if not 0 <= rate <= 1:
                raise ValueError(f"fault rate {rate} for {kind} is not in [0, 1]")
            rates[kind] = rate
    return rates


@dataclass
class FaultInjector:
    seed: int
    rates: dict[str, float]
    counts: Counter[str] = field(default_factory=Counter)
    _held: list[tuple[float, int, Outgoing]] = field(default_factory=list)
    _seq: int = 0
    _per_day: dict[tuple[str, int], tuple[float | None, float]] = field(default_factory=dict)

    def rate(self, kind: str) -> float:
        return self.rates.get(kind, 0.0)

    def apply(self, hour_start: datetime, events: list[EventDoc]) -> list[Outgoing]:
        """This hour's events with faults, plus held-back late events now due."""
        rng = hour_rng(self.seed, "faults", hour_start)
        out: list[Outgoing] = []
        for event in events:
            faulty = self._per_source(event)
            if faulty is None:
                continue
            out.append(self._per_event(rng, faulty, hour_start))
        out = [o for o in out if o is not _HELD]
        out = self._shuffle_some(rng, out)
        out = self._duplicate_some(rng, out)
        end = (hour_start + timedelta(hours=1)).timestamp()
        while self._held and self._held[0][0] < end:
            out.append(heapq.heappop(self._held)[2])
        return out

    def flush(self) -> list[Outgoing]:
        """Late events still held when the run ends: sent last."""
        out = [item for _, _, item in sorted(self._held)]
        self._held.clear()
        return out

    def _source_day(self, source: str, day: int) -> tuple[float | None, float]:
        """(hour from which the source is silent or ``None``, clock skew in seconds)."""
        key = (source, day)
        if key not in self._per_day:
            digest = int.from_bytes(hashlib.blake2b(source.encode(), digest_size=4).digest())
            rng = np.random.default_rng([self.seed, digest, day])
            silent_from = rng.uniform(0, 20) if rng.random() < self.rate("silent") else None
            skew = 0.0
            if rng.random() < self.rate("clock_skew"):
                skew = float(rng.choice([-1, 1]) * rng.uniform(120, 1800))
            self._per_day[key] = (silent_from, skew)
            if len(self._per_day) > 200_000:
                self._per_day.clear()
        return self._per_day[key]

    def _per_source(self, event: EventDoc) -> EventDoc | None:
        if not (self.rate("silent") or self.rate("clock_skew")):
            return event
        moment = event_time(event)
        local_hours = moment.timestamp() / 3600 + 7
        day = int(local_hours // 24)
        silent_from, skew = self._source_day(str(event["source"]), day)
        if silent_from is not None and local_hours - day * 24 >= silent_from:
            self.counts["silent"] += 1
            return None
        if skew:
            self.counts["clock_skew"] += 1
            event = dict(event)
            event["time"] = (moment + timedelta(seconds=skew)).isoformat(timespec="milliseconds")
        return event

    def _per_event(self, rng: np.random.Generator, event: EventDoc, hour: datetime) -> Outgoing:
        draws = rng.random(4)
        doc = event
        if draws[0] < self.rate("unknown_commune"):
            self.counts["unknown_commune"] += 1
            doc = dict(doc)
            doc["subject"] = f"9{int(rng.integers(0, 10_000)):04d}"
        if draws[1] < self.rate("schema"):
            self.counts["schema"] += 1
            doc = copy.deepcopy(doc)
            first = next(iter(doc["data"]))
            doc["data"][first] = None
        item: Outgoing = doc
        if draws[2] < self.rate("malformed"):
            self.counts["malformed"] += 1
            item = _truncate(rng, Message.of(doc))
        if draws[3] < self.rate("late"):
            self.counts["late"] += 1
            delay = rng.uniform(*LATE_HOURS) * 3600
            self._seq += 1
            heapq.heappush(self._held, (event_time(event).timestamp() + delay, self._seq, item))
            return _HELD
        return item

    def _shuffle_some(self, rng: np.random.Generator, out: list[Outgoing]) -> list[Outgoing]:
        rate = self.rate("out_of_order")
        if not rate or len(out) < 2:
            return out
        moved = np.flatnonzero(rng.random(len(out)) < rate)
        if len(moved) == 0:
            return out
        self.counts["out_of_order"] += len(moved)
        keep = np.ones(len(out), dtype=bool)
        keep[moved] = False
        result = [o for o, k in zip(out, keep, strict=True) if k]
        for i in moved[::-1]:
            # Reinsert at a random later place: it now follows events that happened after it.
            position = int(rng.integers(min(int(i) + 1, len(result)), len(result) + 1))
            result.insert(position, out[i])
        return result

    def _duplicate_some(self, rng: np.random.Generator, out: list[Outgoing]) -> list[Outgoing]:
        rate = self.rate("duplicates")
        if not rate:
            return out
        copies = np.flatnonzero(rng.random(len(out)) < rate)
        self.counts["duplicates"] += len(copies)
        result = list(out)
        for i in copies[::-1]:
            position = int(rng.integers(int(i) + 1, len(out) + 1))
            result.insert(position, out[i])
        return result


_HELD: EventDoc = {}
"""Marker: the event was held back as late and leaves in a later hour."""


def _truncate(rng: np.random.Generator, message: Message) -> Message:
    """Cut the bytes somewhere after ``type`` and ``source`` (so the message still routes)."""
    value = message.value
    start = value.find(b'"time"')
    cut = int(rng.integers(max(start, 1), len(value) - 1))
    return Message(message.event_type, message.key, value[:cut])

"""Where simulated events go: a Kafka-protocol broker or a JSON-lines file.

Each sink is the same small interface, so the runner does not care which it feeds and a
unit test can pass a list-backed fake.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import BinaryIO, Protocol

from aiokafka import AIOKafkaProducer

from models.events import REGISTRY, dump_event
from simulators.base import EventDoc


class EventSink(Protocol):
    async def send(self, events: list[EventDoc]) -> None: ...

    async def close(self) -> None: ...


class KafkaSink:
    """Publishes CloudEvents to ``<prefix>.<sector>.<kind>``, keyed by ``source``.

    The key keeps one source system's events in one partition, hence in order.
    """

    def __init__(self, bootstrap: str, topic_prefix: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024
        )
        self._prefix = topic_prefix
        self._started = False

    async def send(self, events: list[EventDoc]) -> None:
        if not self._started:
            await self._producer.start()
            self._started = True
        futures = [
            await self._producer.send(
                topic_for(event, self._prefix),
                key=str(event.get("source", "")).encode(),
                value=dump_event(event),
            )
            for event in events
        ]
        for future in futures:
            await future

    async def close(self) -> None:
        if self._started:
            await self._producer.stop()


def topic_for(event: EventDoc, prefix: str) -> str:
    event_type = REGISTRY.get(str(event.get("type")))
    if event_type is None:
        raise ValueError(f"no topic for event type {event.get('type')!r}")
    return event_type.topic(prefix)


class FileSink:
    """JSON lines, one CloudEvent a line; ``.gz`` paths are gzip-compressed."""

    def __init__(self, path: Path) -> None:
        raw = path.open("wb")
        # mtime=0 keeps the gzip header free of the clock: same seed, same bytes.
        self._file: BinaryIO | gzip.GzipFile = raw
        if path.suffix == ".gz":
            self._file = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0)
        self._raw = raw

    async def send(self, events: list[EventDoc]) -> None:
        self._file.writelines(dump_event(e) + b"\n" for e in events)

    async def close(self) -> None:
        self._file.close()
        self._raw.close()

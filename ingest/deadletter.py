"""The dead-letter topic: every rejected message, byte for byte, with why it was refused.

Published before the batch's database commit, so a crash can only repeat a dead letter,
never lose one; the headers name the original topic/partition/offset for de-duplication.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaProducer

from models.events import EventRejected

SUFFIX = "deadletter"


def dead_letter_topic(prefix: str) -> str:
    return f"{prefix}.{SUFFIX}"


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A message as it came off the broker, with where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


class DeadLetterSink(Protocol):
    async def publish(self, rejects: Sequence[tuple[RawMessage, EventRejected]]) -> None: ...


def headers(msg: RawMessage, exc: EventRejected) -> list[tuple[str, bytes]]:
    return [
        ("ioc-reject-reason", str(exc.reason).encode()),
        ("ioc-reject-detail", exc.detail[:1000].encode()),
        ("ioc-source-topic", msg.topic.encode()),
        ("ioc-source-partition", str(msg.partition).encode()),
        ("ioc-source-offset", str(msg.offset).encode()),
    ]


class KafkaDeadLetters:
    """Publishes rejects to ``<prefix>.deadletter`` with the producer it is given."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self.topic = topic

    async def publish(self, rejects: Sequence[tuple[RawMessage, EventRejected]]) -> None:
        sends = [
            await self._producer.send(self.topic, msg.value, key=msg.key, headers=headers(msg, exc))
            for msg, exc in rejects
        ]
        await asyncio.gather(*sends)  # raise if any was not acknowledged

"""The dead-letter topic: every rejected message, with why it was refused.

Published before the batch's database commit, so a crash can only repeat a dead letter,
never lose one; the headers name the original topic/partition/offset for de-duplication.
A message larger than :data:`KEEP_BYTES` (a topic may allow more than any producer default)
travels truncated, its full size and the truncation in the headers: a dead letter must
never be refused for its size, or the batch it belongs to would fail on every redelivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiokafka import AIOKafkaProducer

from ingest.retry import is_transient
from models.events import EventRejected

log = structlog.get_logger("ingest")

SUFFIX = "deadletter"
KEEP_BYTES = 256 * 1024
"""The most of a rejected message kept, in the dead letter and in ``ingest_reject``: four
times the largest event accepted, well under every broker's 1 MB default."""


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
    headers: tuple[tuple[str, bytes], ...] = ()
    """As received: a binary-mode CloudEvent's attributes are here (``ce_*``)."""

    @property
    def kept(self) -> bytes:
        """The bytes kept of a rejected message: all of them, up to :data:`KEEP_BYTES`."""
        return self.value[:KEEP_BYTES]

    @property
    def truncated(self) -> bool:
        return len(self.value) > KEEP_BYTES


class DeadLetterSink(Protocol):
    async def publish(self, rejects: Sequence[tuple[RawMessage, EventRejected]]) -> None: ...


def headers(msg: RawMessage, exc: EventRejected) -> list[tuple[str, bytes]]:
    """The message's own headers (a binary-mode event's attributes), then why it was
    refused and where it came from."""
    found = [
        *msg.headers,
        ("ioc-reject-reason", str(exc.reason).encode()),
        ("ioc-reject-detail", exc.detail[:1000].encode()),
        ("ioc-source-topic", msg.topic.encode()),
        ("ioc-source-partition", str(msg.partition).encode()),
        ("ioc-source-offset", str(msg.offset).encode()),
        ("ioc-original-bytes", str(len(msg.value)).encode()),
    ]
    if msg.truncated:
        found.append(("ioc-truncated-to-bytes", str(KEEP_BYTES).encode()))
    return found


class KafkaDeadLetters:
    """Publishes rejects to ``<prefix>.deadletter`` with the producer it is given."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self.topic = topic

    async def publish(self, rejects: Sequence[tuple[RawMessage, EventRejected]]) -> None:
        """Send every dead letter and wait for every acknowledgement. A broker outage is
        raised (the consumer waits it out and the batch is written again); a dead letter
        the broker refuses for good is logged and left out, as the reject is still kept in
        ``ingest_reject``: it must not stop the batch."""
        pending = []
        for msg, exc in rejects:
            try:
                pending.append(
                    await self._producer.send(
                        self.topic, msg.kept, key=msg.key, headers=headers(msg, exc)
                    )
                )
            except Exception as error:
                if is_transient(error):
                    await asyncio.gather(*pending, return_exceptions=True)
                    raise
                _refused(msg, error)
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        transient = [e for e in errors if is_transient(e)]
        if transient:
            raise transient[0]
        for refusal in errors:
            log.error("dead letter refused by the broker", error=repr(refusal))


def _refused(msg: RawMessage, error: BaseException) -> None:
    log.error(
        "dead letter refused by the broker",
        topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        bytes=len(msg.value),
        error=repr(error),
    )

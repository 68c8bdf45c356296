"""Where accepted events go: the broker (a small interface, so unit tests can swap it)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer


class Publisher(Protocol):
    async def publish(self, messages: Sequence[tuple[str, bytes, bytes]]) -> None:
        """Publish (topic, key, value) messages; return only once the broker has them all."""


class KafkaPublisher:
    """One producer per API process, started on first use (the API runs without a broker
    too, e.g. for reads only) and stopped with the app."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap, acks="all", linger_ms=5
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()  # release its sockets; the caller sees the error
                    raise
                self._producer = producer
            return self._producer

    async def publish(self, messages: Sequence[tuple[str, bytes, bytes]]) -> None:
        producer = await self._started()
        sends = [await producer.send(t, v, key=k) for t, k, v in messages]
        await asyncio.gather(*sends)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

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
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
        self._started = False
        self._lock = asyncio.Lock()

    async def publish(self, messages: Sequence[tuple[str, bytes, bytes]]) -> None:
        async with self._lock:
            if not self._started:
                await self._producer.start()
                self._started = True
        sends = [await self._producer.send(t, v, key=k) for t, k, v in messages]
        await asyncio.gather(*sends)

    async def close(self) -> None:
        if self._started:
            await self._producer.stop()

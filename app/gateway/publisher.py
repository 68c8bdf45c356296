"""Where accepted events go: the broker (a small interface, so unit tests can swap it), and
what the API knows about the broker's health, so the gateway fails fast while it is down."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer

PROBE_INTERVAL_SECONDS = 1.0
"""While the broker is down, at most one reachability probe per this many seconds."""


class Publisher(Protocol):
    async def publish(self, messages: Sequence[tuple[str, bytes, bytes]]) -> None:
        """Publish (topic, key, value) messages; return only once the broker has them all."""


async def reachable(bootstrap: str, wait: float = 2.0) -> bool:
    """Some bootstrap address accepts a TCP connection within ``wait`` seconds."""
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), wait)
        except (OSError, TimeoutError, ValueError, socket.gaierror):
            continue
        writer.close()
        return True
    return False


class BrokerHealth:
    """Down from a failed publish or probe until a probe reaches the broker again.

    Shared by ``/readyz`` and the gateway: while the broker is known to be down, a posted
    batch is refused at once (503) instead of waiting out the producer's timeouts.
    """

    def __init__(self, bootstrap: str | None) -> None:
        self.bootstrap = bootstrap
        self.down_since: float | None = None
        self._probed_at = 0.0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def mark_down(self) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()

    def mark_up(self) -> None:
        self.down_since = None

    async def probe(self, wait: float = 2.0) -> bool:
        """Probe now; the verdict updates the state either way."""
        self._probed_at = time.monotonic()
        ok = bool(self.bootstrap) and await reachable(self.bootstrap or "", wait)
        if ok:
            self.mark_up()
        else:
            self.mark_down()
        return ok

    async def usable(self) -> bool:
        """Worth a publish: not known down, or a probe (rate-limited) found it back."""
        if self.down_since is None:
            return True
        if time.monotonic() - self._probed_at < PROBE_INTERVAL_SECONDS:
            return False
        return await self.probe(wait=1.0)


class KafkaPublisher:
    """One producer per API process, started on first use (the API runs without a broker
    too, e.g. for reads only) and stopped with the app.

    Buffering is bounded: at most ``max_in_flight`` batches are being published at once
    (others wait for a turn within the same timeout), and each publish gives up after
    ``timeout`` seconds, so a broker outage costs a request seconds, not minutes.
    """

    def __init__(self, bootstrap: str, *, timeout: float = 10.0, max_in_flight: int = 8) -> None:
        self._bootstrap = bootstrap
        self._timeout = timeout
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._turns = asyncio.Semaphore(max_in_flight)

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    acks="all",
                    linger_ms=5,
                    request_timeout_ms=int(self._timeout * 1000),
                    metadata_max_age_ms=30_000,
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()  # release its sockets; the caller sees the error
                    raise
                self._producer = producer
            return self._producer

    async def publish(self, messages: Sequence[tuple[str, bytes, bytes]]) -> None:
        """All ``messages`` acknowledged, or ``TimeoutError`` / a ``KafkaError``."""
        async with asyncio.timeout(self._timeout), self._turns:
            producer = await self._started()
            sends = [await producer.send(t, v, key=k) for t, k, v in messages]
            await asyncio.gather(*sends)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

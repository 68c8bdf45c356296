"""Where simulated events go: a Kafka-protocol broker, the HTTP ingest gateway, or a JSON-lines
file.

Each sink is the same small interface, ``send(items)`` and ``close()``, so the runner does not
care which it feeds and a unit test can pass a list-backed fake. An item is either a clean
event document (the sink encodes it) or a :class:`Message` whose bytes are already on-wire,
which is how faults (malformed JSON, schema violations) and replayed files travel: they must
arrive exactly as made, not re-encoded.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, NoReturn, Protocol

import httpx
import orjson
from aiokafka import AIOKafkaProducer
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from models.events import REGISTRY, dump_event
from simulators.base import EventDoc

_TYPE = re.compile(rb'"type"\s*:\s*"([^"]+)"')
_SOURCE = re.compile(rb'"source"\s*:\s*"([^"]*)"')
_TIME = re.compile(rb'"time"\s*:\s*"([^"]+)"')


@dataclass(frozen=True, slots=True)
class Message:
    """One message as it goes on the wire: the event type that routes it, its key, its bytes."""

    event_type: str
    key: bytes
    value: bytes

    @staticmethod
    def of(event: EventDoc) -> Message:
        return Message(
            str(event.get("type")), str(event.get("source", "")).encode(), dump_event(event)
        )

    @staticmethod
    def from_raw(value: bytes) -> Message:
        """Route raw bytes (a recorded line, maybe broken) by the type and source they carry."""
        found = _TYPE.search(value)
        source = _SOURCE.search(value)
        return Message(
            found.group(1).decode(errors="replace") if found else "",
            source.group(1) if source else b"",
            value,
        )

    def time(self) -> str | None:
        found = _TIME.search(self.value)
        return found.group(1).decode(errors="replace") if found else None


Outgoing = EventDoc | Message


def encode(item: Outgoing) -> Message:
    return item if isinstance(item, Message) else Message.of(item)


class EventSink(Protocol):
    async def send(self, items: Sequence[Outgoing]) -> None: ...

    async def close(self) -> None: ...


def topic_for(event_type: str, prefix: str) -> str:
    registered = REGISTRY.get(event_type)
    if registered is None:
        raise ValueError(f"no topic for event type {event_type!r}")
    return registered.topic(prefix)


class DeliveryFailed(Exception):
    """The broker did not take every message of a send: what was delivered, what was not,
    and the time of the earliest event not delivered (where a run can resume from)."""

    def __init__(
        self, delivered: int, undelivered: int, first_undelivered: str | None, cause: str
    ) -> None:
        super().__init__(
            f"{undelivered:,} message(s) not delivered ({cause}); {delivered:,} delivered"
        )
        self.delivered = delivered
        self.undelivered = undelivered
        self.first_undelivered = first_undelivered


class KafkaSink:
    """Publishes to ``<prefix>.<sector>.<kind>``, keyed by ``source``, in producer batches.

    The key keeps one source system's events in one partition, hence in order. With
    ``partitions`` the topics are created first (if missing) with that many partitions, so
    a standalone ``ioc simulate`` or ``ioc replay`` does not depend on broker defaults.

    ``send`` returns once the broker has acknowledged every message, or raises
    :class:`DeliveryFailed` after waiting for every message's outcome (none is left
    unawaited): ``delivered`` and ``undelivered`` count exactly what the broker took.
    """

    def __init__(
        self,
        bootstrap: str,
        topic_prefix: str,
        partitions: int | None = None,
        request_timeout_ms: int = 40_000,
    ) -> None:
        self._bootstrap = bootstrap
        self._prefix = topic_prefix
        self._partitions = partitions
        self._request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None
        self.delivered = 0
        self.undelivered = 0

    async def _start(self) -> AIOKafkaProducer:
        """The producer, made and started on first use: it must be born inside the loop."""
        if self._partitions:
            from ingest.topics import ensure_topics

            await ensure_topics(self._bootstrap, self._prefix, self._partitions)
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            linger_ms=20,
            max_batch_size=256 * 1024,
            request_timeout_ms=self._request_timeout_ms,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer

    async def send(self, items: Sequence[Outgoing]) -> None:
        messages = [encode(item) for item in items]
        if self._producer is None:
            try:
                self._producer = await self._start()
            except Exception as exc:
                self._failed(0, messages, exc)
        producer = self._producer
        assert producer is not None
        sends: list[asyncio.Future[object]] = []
        cause: BaseException | None = None
        for message in messages:
            try:
                topic = topic_for(message.event_type, self._prefix)
                sent = await producer.send(topic, key=message.key, value=message.value)
                sent.add_done_callback(self._count)
                sends.append(sent)
            except Exception as exc:  # no broker (metadata wait timed out), or no topic
                cause = exc
                break
        outcomes = await asyncio.gather(*sends, return_exceptions=True)
        tried = zip(messages[: len(sends)], outcomes, strict=True)
        failed = [m for m, o in tried if isinstance(o, BaseException)]
        failed += messages[len(sends) :]
        delivered = len(messages) - len(failed)
        if failed:
            errors = [o for o in outcomes if isinstance(o, BaseException)]
            self._failed(delivered, failed, cause or errors[0])

    def _count(self, outcome: asyncio.Future[object]) -> None:
        """Count a message the moment the broker acknowledges it, so a send cancelled while
        it waits (Ctrl-C) still counts what the broker took, even acks that arrive as the
        producer flushes on close."""
        if not outcome.cancelled() and outcome.exception() is None:
            self.delivered += 1

    def _failed(self, delivered: int, failed: list[Message], cause: BaseException) -> NoReturn:
        self.undelivered += len(failed)
        times = [t for t in (m.time() for m in failed) if t]
        raise DeliveryFailed(
            delivered, len(failed), min(times, key=_instant, default=None), repr(cause)
        ) from cause

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


def _instant(time: str) -> datetime:
    """An event time for ordering; an unreadable one (a fault's) sorts first."""
    try:
        return datetime.fromisoformat(time).astimezone(UTC)
    except (ValueError, OverflowError):
        return datetime.min.replace(tzinfo=UTC)


class FileSink:
    """JSON lines, one CloudEvent a line; ``.gz`` paths are gzip-compressed."""

    def __init__(self, path: Path) -> None:
        raw = path.open("wb")
        # mtime=0 keeps the gzip header free of the clock: same seed, same bytes. Level 6
        # compresses nearly as well as 9 at twice the speed.
        self._file: BinaryIO | gzip.GzipFile = raw
        if path.suffix == ".gz":
            self._file = gzip.GzipFile(
                filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=6
            )
        self._raw = raw

    async def send(self, items: Sequence[Outgoing]) -> None:
        self._file.writelines(encode(i).value + b"\n" for i in items)

    async def close(self) -> None:
        self._file.close()
        self._raw.close()


class HttpSink:
    """POSTs batches of CloudEvents to the ingest gateway (``POST /api/v1/events``).

    A batch is a JSON array (``application/cloudevents-batch+json``) with the API key in
    ``X-API-Key``. A message that is not valid JSON goes alone, so it spoils no other
    event's request. The gateway's verdicts (``accepted`` / ``rejected`` per batch) are
    tallied; 4xx answers count as rejected requests (the gateway said no, that is its job);
    5xx and connection errors are retried, then raised.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        batch_size: int = 500,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 3,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"X-API-Key": api_key},
            timeout=30.0,
            transport=transport,
        )
        self._batch_size = batch_size
        self._retries = retries
        self.responses: Counter[int] = Counter()
        self.rejected_requests = 0
        self.verdicts: Counter[str] = Counter()
        """Events the gateway said it ``accepted`` / ``rejected``."""

    async def send(self, items: Sequence[Outgoing]) -> None:
        batch: list[bytes] = []
        for item in items:
            value = encode(item).value
            if _is_json(value):
                batch.append(value)
                if len(batch) >= self._batch_size:
                    await self._post(batch)
                    batch = []
            else:
                await self._post([value])
        if batch:
            await self._post(batch)

    async def _post(self, values: list[bytes]) -> None:
        body = b"[" + b",".join(values) + b"]"
        headers = {"Content-Type": "application/cloudevents-batch+json"}
        retrying = AsyncRetrying(
            retry=retry_if_exception(_worth_retrying),
            stop=stop_after_attempt(self._retries + 1),
            wait=wait_exponential(multiplier=0.2),  # 0.2 s, 0.4 s, 0.8 s …
            reraise=True,
        )
        response: httpx.Response = await retrying(self._post_once, body, headers)
        self._tally(response)

    async def _post_once(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """One request; a 5xx answer is raised (retried), a 4xx is the gateway's verdict."""
        response = await self._client.post("/api/v1/events", content=body, headers=headers)
        if response.status_code >= 500:
            response.raise_for_status()
        return response

    def _tally(self, response: httpx.Response) -> None:
        self.responses[response.status_code] += 1
        if response.status_code >= 400:
            self.rejected_requests += 1
            return
        try:
            verdict = response.json()
        except ValueError:
            return
        if isinstance(verdict, dict):
            for key in ("accepted", "rejected"):
                if isinstance(verdict.get(key), int):
                    self.verdicts[key] += verdict[key]

    async def close(self) -> None:
        await self._client.aclose()


def _worth_retrying(exc: BaseException) -> bool:
    """A connection that failed or a server error: the same request may succeed again."""
    return isinstance(exc, (httpx.TransportError, httpx.HTTPStatusError))


def _is_json(value: bytes) -> bool:
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True

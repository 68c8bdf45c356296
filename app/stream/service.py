"""The hub: every replica's fan-out of the ``stream_event`` log to its SSE clients.

The one evaluator of the deployment (``app.stream.evaluator``) writes events to the log and
``NOTIFY``s ``ioc_stream``; every replica LISTENs, reads what is new and puts it in each
matching client's mailbox. A mailbox keeps the newest event per key (one value of one
indicator for one unit and period, one alert, one source), so a slow client gets the latest
of everything rather than every intermediate value and is never reset for being slow; a
client that keeps up gets every event. Ids are the log's, so ``Last-Event-ID`` resumes on
any replica while the event is still kept (``RESUME_WINDOW``); older gets a ``reset``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from app.stream import repository
from app.stream.evaluator import Evaluator, stop_if_cancelled
from app.stream.repository import LoggedEvent
from app.stream.schemas import StreamEvent, Subscription
from ingest.retry import wait_out
from models.units import HIERARCHY_2020

log = structlog.get_logger("stream")
RESUME_WINDOW = timedelta(minutes=15)
"""How long stream events are kept for clients that reconnect with ``Last-Event-ID``."""
MAX_RESUME_EVENTS = 5000
"""A client that missed more than this reloads (``reset``) instead of replaying them."""
MAILBOX_KEYS = 20_000
"""Distinct pending keys a stalled client may hold before it is told to reload."""
READ_BATCH = 2000
CLIENTS_PER_SLICE = 50
"""Clients served between two yields to the event loop."""


def _waiting(_dependency: str, error: BaseException, attempt: int, delay: float) -> None:
    log.warning("stream listen failed; retrying", error=repr(error), attempt=attempt,
                in_seconds=round(delay, 2))  # fmt: skip


def reset(reason: str) -> StreamEvent:
    return StreamEvent(id=None, kind="reset", data={"reason": reason})


def from_row(row: LoggedEvent) -> StreamEvent:
    return StreamEvent(
        id=row.id,
        kind=row.kind,
        data=row.data,
        indicator=row.indicator,
        units=frozenset(row.units or ()),
        open_data=row.open_data,
        public_only=row.public_only,
        hierarchy=str((row.data or {}).get("hierarchy", HIERARCHY_2020)),
    )


class Mailbox:
    """A client's pending events, newest per key, in the order of their ids."""

    def __init__(self, limit: int = MAILBOX_KEYS) -> None:
        self._pending: OrderedDict[tuple[Any, ...], StreamEvent] = OrderedDict()
        self._ready = asyncio.Event()
        self._limit = limit

    def put(self, event: StreamEvent) -> None:
        self._pending.pop(event.key, None)
        self._pending[event.key] = event
        if len(self._pending) > self._limit:  # stalled for good: reload beats replay
            self._pending.clear()
            self._pending[("reset",)] = reset("client too slow; reload state")
        self._ready.set()

    async def take(self) -> list[StreamEvent]:
        """Everything pending, waiting for at least one event."""
        await self._ready.wait()
        self._ready.clear()
        events = list(self._pending.values())
        self._pending.clear()
        return events

    def __len__(self) -> int:
        return len(self._pending)


class Hub:
    def __init__(
        self,
        engine: AsyncEngine,
        database_url: str,
        evaluator: Evaluator,
        counted: Callable[[int], object] = lambda clients: None,
    ) -> None:
        self._engine = engine
        self._counted = counted
        """Told the number of clients whenever it changes (the metrics' gauge)."""
        self._url = database_url
        self._subscribers: dict[Mailbox, Subscription] = {}
        self._last_id: int | None = None
        self._new = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()
        """The ``LISTEN ioc_stream`` of this replica is in place."""
        self.evaluator = evaluator
        """The deployment's evaluator as this replica runs it (it leads or stands by)."""

    # --- subscribers ----------------------------------------------------------------------

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def position(self) -> int | None:
        """The newest log id handed to the clients (None before the first read)."""
        return self._last_id

    async def subscribe(
        self, sub: Subscription, last_event_id: str | None, since: int | None = None
    ) -> tuple[Mailbox, list[StreamEvent]]:
        """Register a client; return its mailbox and the kept events it missed.

        ``since`` is the hub's ``position`` when the client's request was answered: its
        response headers go out before the body (where it subscribes) starts, and whatever
        the hub handed out in between is read back from the log, so a client that has its
        headers misses nothing committed after them."""
        mailbox = Mailbox()
        self._subscribers[mailbox] = sub  # first: nothing falls between the two
        self._counted(len(self._subscribers))
        try:
            if last_event_id:
                missed = await self._missed(last_event_id)
            elif since is not None and self._last_id is not None and self._last_id > since:
                missed = await self._after(since)
            else:
                missed = []
        except BaseException:
            self.unsubscribe(mailbox)
            raise
        return mailbox, [e for e in missed if sub.wants(e)]

    def unsubscribe(self, mailbox: Mailbox) -> None:
        self._subscribers.pop(mailbox, None)
        self._counted(len(self._subscribers))

    async def _missed(self, last_event_id: str | None) -> list[StreamEvent]:
        if not last_event_id:
            return []
        # isdigit() alone lets "²" through (headers are Latin-1), which int() refuses
        if not (last_event_id.isascii() and last_event_id.isdigit()) or len(last_event_id) > 18:
            return [reset("unknown event id; reload state")]
        last = int(last_event_id)
        async with self._engine.connect() as conn:
            oldest, newest = await repository.bounds(conn)
        if last > newest or (oldest and last < oldest - 1) or (not oldest and last):
            return [reset("missed events are gone; reload state")]
        return await self._after(last)

    async def _after(self, last: int) -> list[StreamEvent]:
        async with self._engine.connect() as conn:
            rows = await repository.after(conn, last, MAX_RESUME_EVENTS + 1)
        if len(rows) > MAX_RESUME_EVENTS:
            return [reset("too many missed events; reload state")]
        return [from_row(r) for r in rows]

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="stream-listen"),
            asyncio.create_task(self._deliver(), name="stream-deliver"),
            asyncio.create_task(self.evaluator.run(), name="stream-evaluator"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _listen(self) -> None:
        """LISTEN ``ioc_stream``; each notice (and each reconnect) wakes the delivery. When
        the database goes away the clients stay connected, and the connection is made again
        under the one retry policy (``ingest.retry.wait_out``: 0.5 s, 1 s … 30 s apart)."""
        while True:
            reconnect = wait_out(_waiting, retry_on=lambda exc: isinstance(exc, Exception))
            try:
                conn: psycopg.AsyncConnection[Any] = await reconnect(
                    repository.listen, self._url, repository.STREAM_CHANNEL
                )
                async with conn:
                    self.listening.set()
                    self._new.set()  # catch up on what was written while not listening
                    async for _ in conn.notifies():
                        self._new.set()
            except Exception as exc:  # the connection was lost: make it again
                stop_if_cancelled(exc)  # stopping, whatever the dead connection raised
                log.warning("stream listen lost; reconnecting", error=repr(exc))
            finally:
                self.listening.clear()

    async def _deliver(self) -> None:
        while True:
            await self._new.wait()
            self._new.clear()
            try:
                await self._deliver_new()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                stop_if_cancelled(exc)  # stopping, whatever the dead connection raised
                log.warning("stream read failed; retrying", error=repr(exc))
                await asyncio.sleep(1)
                self._new.set()

    async def _deliver_new(self) -> None:
        async with self._engine.connect() as conn:
            if self._last_id is None:  # start from now: history is for resuming clients
                self._last_id = await repository.newest(conn)
                return
            while rows := await repository.after(conn, self._last_id, READ_BATCH):
                self._last_id = rows[-1].id
                await self.fan_out([from_row(r) for r in rows])
                if len(rows) < READ_BATCH:
                    break

    async def fan_out(self, events: list[StreamEvent]) -> None:
        """Put each event in the mailbox of every client that wants it, yielding to the
        event loop between slices of clients so a burst never stalls the server."""
        for i, (mailbox, sub) in enumerate(list(self._subscribers.items()), 1):
            for event in events:
                if sub.wants(event):
                    mailbox.put(event)
            if i % CLIENTS_PER_SLICE == 0:
                await asyncio.sleep(0)

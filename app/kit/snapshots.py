"""How a read reaches the database: one snapshot per answer.

Kept apart from :mod:`app.kit.db` (the request dependencies) so that the answer cache can
use it without importing the application's resources.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.kit.changes import ANYTHING, Epochs, Seen, changed_since
from app.kit.connections import connect


@lru_cache(maxsize=16)
def repeatable_read(engine: AsyncEngine) -> AsyncEngine:
    """``engine``, its transactions begun ``REPEATABLE READ`` (said in the BEGIN itself: no
    statement of its own). Made once per engine: an options copy is about a tenth of a
    kept answer's cost, made per request."""
    return engine.execution_options(isolation_level="REPEATABLE READ")


SNAPSHOT = "SELECT pg_current_snapshot()::text"
"""Which commits a statement sees: two with the same snapshot see the same rows."""


class Snapshots:
    """The database's snapshot now, for every request of the process, read on one dedicated
    autocommit connection with at most one read in flight.

    Why: a kept answer costs a dictionary look-up once its snapshot is known, so the read of
    the snapshot was most of its cost (a pool checkout with its ping, isolation settings,
    SQLAlchemy's statement machinery), and fifty clients asking at once made fifty reads.

    Why it stays exact: a request waits for a read *started after it asked*; a read already
    in flight may have begun before a commit the request must see, so requests that arrive
    during it share the next one instead. Every commit made before a request asked is then
    in the snapshot it gets, as with a read of its own; fifty requests arriving during one
    read share the next, one statement for all of them.

    A read that fails because the connection broke (the database restarted) is retried once
    on a new connection; a database that stays down is the requests' psycopg error, which
    the API answers with a 503 (:mod:`app.kit.outages`).

    Each read that finds a new snapshot begins an epoch (:attr:`epochs`), recorded with the
    earliest moment the commits since the last one may have changed (``app.kit.changes``):
    what a kept answer needs to know to outlive them."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._next: asyncio.Future[Seen] | None = None
        """The read the requests asking now wait for; not yet started."""
        self._reader: asyncio.Task[None] | None = None
        self.epochs = Epochs()
        self._last: tuple[str, object] | None = None
        """The last snapshot read, and the connection it was read on."""

    async def now(self) -> Seen:
        """A snapshot that holds every commit made before this call, with its epoch."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_while_asked())
        return await asyncio.shield(self._next)

    async def close(self) -> None:
        """Stop reading and close the connection (the API stopping); a later :meth:`now`
        connects again."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
            self._reader = None
        if self._next is not None:
            self._next.cancel()
            self._next = None
        await self._drop()

    async def _read_while_asked(self) -> None:
        while (asked := self._next) is not None:
            self._next = None  # who asks from now on waits for the next read
            try:
                asked.set_result(await self._seen(await self._read()))
            except Exception as exc:
                asked.set_exception(exc)
                asked.exception()  # retrieved: the requests that asked raise it themselves
            except BaseException:
                asked.cancel()
                raise

    async def _seen(self, snapshot: str) -> Seen:
        """``snapshot`` in its epoch: the current one, or a new one if it changed. Read on
        another connection than the last (the database restarted, or failed over to a
        standby that may lack commits the last one had), anything may have changed."""
        last, conn = self._last, self._conn
        if last is None or last[0] != snapshot or last[1] is not conn:
            if last is not None and last[1] is conn:
                self.epochs.step(await self._since(last[0], snapshot))
            else:
                self.epochs.step(ANYTHING)
            self._last = snapshot, conn  # only once the step is recorded
        return Seen(snapshot, self.epochs.current)

    async def _since(self, before: str, after: str) -> float:
        """The earliest moment the commits between two snapshots may have changed, read on
        the same connection; a connection lost meanwhile: not known."""
        try:
            if self._conn is None or self._conn.closed:
                return ANYTHING
            return await changed_since(self._conn, before, after)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            await self._drop()
            return ANYTHING

    async def _read(self) -> str:
        try:
            return await self._read_once()
        except (psycopg.OperationalError, psycopg.InterfaceError):
            return await self._read_once()  # the connection broke: once more, on a new one

    async def _read_once(self) -> str:
        if self._conn is None or self._conn.closed:
            self._conn = await connect(self._url)
        try:
            return await _snapshot(self._conn)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            await self._drop()
            raise

    async def _drop(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


async def _snapshot(driver: Any) -> str:
    return str((await (await driver.execute(SNAPSHOT)).fetchone())[0])


@dataclass(frozen=True, slots=True)
class Reads:
    """A read route's way to the database when its answer may be kept
    (:mod:`app.kit.answers`): the database's snapshot now (:class:`Snapshots`: no
    transaction, no pool checkout; a kept answer is then served without either), or, to
    compute an answer, one ``REPEATABLE READ`` transaction, opened and committed by the
    route itself."""

    engine: AsyncEngine
    snapshots: Snapshots

    async def snapshot(self) -> Seen:
        return await self.snapshots.now()

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return repeatable_read(self.engine).begin()

"""SQL of the live stream: the change notices ingest sends, the ``stream_event`` log every
replica reads from, and the advisory lock that makes one process the evaluator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

import orjson
import psycopg
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.connections import connect
from app.stream.schemas import EventKind
from models.notify import CHANNEL
from models.tables.changes import log_change

__all__ = ["CHANNEL", "EVALUATOR_LOCK", "STREAM_CHANNEL"]
from models.tables_serving import StreamEventRow

STREAM_CHANNEL = "ioc_stream"
"""``NOTIFY ioc_stream`` (payload: the newest id) after stream events are written."""
EVALUATOR_LOCK = 0x10C_E7A1
"""The advisory lock the one evaluator of a deployment holds for as long as it runs."""

_EVENT = StreamEventRow.__table__


@dataclass(frozen=True, slots=True)
class StreamDraft:
    """A stream event to append to the log (a row of ``stream_event`` before its id)."""

    kind: EventKind
    data: dict[str, Any]
    indicator: str | None
    units: list[str]
    """The unit codes the event concerns, sorted."""
    open_data: bool
    public_only: bool


@dataclass(frozen=True, slots=True)
class LoggedEvent(StreamDraft):
    """A stream event as read back from the log."""

    id: int


_LOGGED_COLUMNS = [_EVENT.c[f.name] for f in fields(LoggedEvent)]
"""The columns read, named by the row type (a column renamed in the table fails here, at
import, rather than in a query)."""


async def listen(database_url: str, channel: str) -> psycopg.AsyncConnection[Any]:
    """A dedicated connection (:func:`connect`) that LISTENs to ``channel``."""
    conn = await connect(database_url)
    try:
        await conn.execute(f"LISTEN {channel}")
    except BaseException:
        await conn.close()
        raise
    return conn


async def notices(database_url: str, listening: asyncio.Event) -> AsyncIterator[str]:
    """Payloads of ``NOTIFY ioc_changes`` as they arrive (delivered at the sender's commit);
    ``listening`` is set once the ``LISTEN`` is in place."""
    async with await listen(database_url, CHANNEL) as conn:
        listening.set()
        async for notify in conn.notifies():
            yield notify.payload


async def try_lead(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Take the evaluator's lock on ``conn`` if nobody holds it (held until ``conn`` ends)."""
    cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (EVALUATOR_LOCK,))
    row = await cur.fetchone()
    return bool(row and row[0])


_APPEND = text(
    "INSERT INTO stream_event (kind, data, indicator, units, open_data, public_only) "
    "SELECT r.kind, r.data, r.indicator, ARRAY(SELECT jsonb_array_elements_text(r.units)), "
    "r.open_data, r.public_only "
    "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(kind text, data jsonb, indicator text, "
    "units jsonb, open_data boolean, public_only boolean) "
    "RETURNING id"
)
"""One statement text and one parameter however many events: the events as one JSON
array. A row-wise ``INSERT … VALUES`` grows with the batch, so the driver parsed its
placeholders afresh at every append (too long to cache): 29 % of the API process's time
while a year was loaded; an array per column would have every JSON quote escaped."""


async def append(conn: AsyncConnection, rows: Sequence[StreamDraft]) -> list[int]:
    """Write stream events and notify every replica at commit; their ids, in order."""
    if not rows:
        return []
    events = orjson.dumps(rows).decode()  # a draft serialises as its fields
    ids = [int(i) for i in (await conn.execute(_APPEND, {"rows": events})).scalars().all()]
    await conn.execute(
        text("SELECT pg_notify(:channel, :id)"), {"channel": STREAM_CHANNEL, "id": str(max(ids))}
    )
    # The stream log is read by no indicator answer: kept answers stay (models.tables.changes).
    await log_change(conn)
    return sorted(ids)


async def after(conn: AsyncConnection, last_id: int, limit: int) -> list[LoggedEvent]:
    """Stream events with an id above ``last_id``, oldest first, at most ``limit``."""
    rows = await conn.execute(
        select(*_LOGGED_COLUMNS).where(_EVENT.c.id > last_id).order_by(_EVENT.c.id).limit(limit)
    )
    return [LoggedEvent(**r._mapping) for r in rows]


async def bounds(conn: AsyncConnection) -> tuple[int, int]:
    """(oldest id kept, newest id); (0, 0) when the log is empty."""
    row = (await conn.execute(select(func.min(_EVENT.c.id), func.max(_EVENT.c.id)))).one()
    return (int(row[0] or 0), int(row[1] or 0))


async def newest(conn: AsyncConnection) -> int:
    return (await bounds(conn))[1]


async def prune(conn: AsyncConnection, keep: timedelta) -> int:
    """Drop events older than ``keep`` (a client away longer gets a reset instead)."""
    result = await conn.execute(
        delete(StreamEventRow).where(_EVENT.c.created_at < func.now() - keep)
    )
    dropped = int(result.rowcount or 0)
    if dropped:
        await log_change(conn)
    return dropped


def encode(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()

"""The LISTEN connection: a dedicated autocommit psycopg connection to ``ioc_changes``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
from sqlalchemy.engine import make_url

from models.notify import CHANNEL


def conninfo(database_url: str) -> str:
    """The SQLAlchemy URL as a libpq URI (psycopg takes no ``+driver``)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def notices(database_url: str, listening: asyncio.Event) -> AsyncIterator[str]:
    """Payloads of ``NOTIFY ioc_changes`` as they arrive (delivered at the sender's commit);
    ``listening`` is set once the ``LISTEN`` is in place."""
    async with await psycopg.AsyncConnection.connect(
        conninfo(database_url), autocommit=True
    ) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        listening.set()
        async for notify in conn.notifies():
            yield notify.payload

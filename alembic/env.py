"""Async alembic environment: the URL comes from ``IOC_DATABASE_URL`` or the caller."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from alembic import context
from models import tables_serving  # noqa: F401  (registers the API's tables on Base)
from models.settings import get_settings, normalise_database_url
from models.tables import Base

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Partitions and TimescaleDB chunks are made at run time, not by migrations."""
    return not (type_ == "table" and name and ("_y2" in name or name.startswith("_hyper_")))


def _url() -> str:
    url = config.attributes.get("database_url") or get_settings().database_url
    if not url:
        raise SystemExit("IOC_DATABASE_URL is not set (or run `ioc db upgrade`, which starts one).")
    return normalise_database_url(url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())

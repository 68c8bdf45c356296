"""Async alembic environment: the URL comes from ``IOC_DATABASE_URL`` or the caller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from alembic import context
from models import tables_serving  # noqa: F401  (registers the API's tables on Base)
from models.settings import get_settings, normalise_database_url
from models.tables import Base

config = context.config
target_metadata = Base.metadata


def _made_by_the_database(connection: Connection) -> set[tuple[str, str]]:
    """(type, name) of what the database makes itself at run time, so autogenerate leaves it
    alone: native partitions (created by ingest ahead of need) and, under TimescaleDB, the
    default time index ``<table>_<time column>_idx`` that ``create_hypertable`` adds."""
    made = {
        ("table", name)
        for name in connection.scalars(
            text("SELECT relname FROM pg_class WHERE relispartition AND relkind IN ('r', 'p')")
        )
    }
    timescale = connection.scalar(
        text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
    )
    if timescale:
        made |= {
            ("index", f"{table}_{column}_idx")
            for table, column in connection.execute(
                text(
                    "SELECT hypertable_name, column_name FROM timescaledb_information.dimensions "
                    "WHERE dimension_number = 1"
                )
            )
        }
    return made


def _include(made: set[tuple[str, str]]) -> Callable[..., bool]:
    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        return not (reflected and compare_to is None and (type_, name) in made)

    return include_object


def _url() -> str:
    url = config.attributes.get("database_url") or get_settings().database_url
    if not url:
        raise SystemExit("IOC_DATABASE_URL is not set (or run `ioc db upgrade`, which starts one).")
    return normalise_database_url(url)


def _run(connection: Connection) -> None:
    made = _made_by_the_database(connection)
    connection.commit()  # end the look-up's transaction: migrations run in their own
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=_include(made),
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

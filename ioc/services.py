"""Resolve the database and broker a command uses: configured ones, or embedded ones."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from ingest.units import load_units
from ioc.embedded import embedded_broker, embedded_postgres
from models.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Services:
    database_url: str
    kafka_bootstrap: str
    embedded: tuple[str, ...]


@contextlib.contextmanager
def services(settings: Settings, *, need_broker: bool = True) -> Iterator[Services]:
    """Yield the services to use, starting embedded ones for what is not configured."""
    with contextlib.ExitStack() as stack:
        embedded = []
        database_url = settings.database_url
        if not database_url:
            database_url = stack.enter_context(embedded_postgres(settings.data_dir))
            embedded.append("PostgreSQL")
        bootstrap = settings.kafka_bootstrap or ""
        if need_broker and not bootstrap:
            bootstrap = stack.enter_context(embedded_broker(settings.data_dir))
            embedded.append("broker")
        yield Services(database_url, bootstrap, tuple(embedded))


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = database_url
    return config


async def upgrade(database_url: str, engine: AsyncEngine) -> int:
    """Migrate to the newest schema and (re)load the admin units; return the unit count."""
    # alembic's env.py runs its own event loop: give it a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "heads")
    async with engine.begin() as conn:
        return await load_units(conn)

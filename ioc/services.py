"""Resolve the database and broker a command uses: configured ones, or embedded ones."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import structlog
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alembic import command
from ingest.retry import wait_out
from ingest.units import load_units
from ioc.embedded import embedded_broker, embedded_postgres
from ioc.errors import OperatorError
from models.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
log = structlog.get_logger(__name__)


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


def migrations_dir() -> Path:
    """The migrations: inside the installed wheel (``ioc/alembic``), else the checkout's."""
    packaged = Path(str(resources.files("ioc"))) / "alembic"
    return packaged if (packaged / "env.py").is_file() else ROOT / "alembic"


def alembic_config(database_url: str) -> Config:
    """alembic's configuration for ``database_url``, from a checkout or an installed wheel."""
    ini = ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() else Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


async def require_schema(engine: AsyncEngine) -> None:
    """Wait for the database (as the ingest workers do: however long it takes), then refuse
    to go on unless it is at this version's schema, saying what to run."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    current: str | None = await wait_out(_waiting)(_schema_revision, engine)
    if current != head:
        state = f"at schema {current}" if current else "not migrated"
        raise OperatorError(
            f"The database is {state} and this version needs schema {head}: run `ioc db upgrade`."
        )


async def _schema_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        if not await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL")):
            return None
        revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        return None if revision is None else str(revision)


def _waiting(dependency: str, error: BaseException, attempt: int, delay: float) -> None:
    log.warning(
        "waiting for the database",
        dependency=dependency,
        error=str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
        attempt=attempt,
        retry_in_s=round(delay, 1),
    )


async def upgrade(database_url: str, engine: AsyncEngine) -> int:
    """Migrate to the newest schema and (re)load the admin units; return the unit count."""
    # alembic's env.py runs its own event loop: give it a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "heads")
    async with engine.begin() as conn:
        collation = await database_collation(conn)
        if collation not in FAST_COLLATION:
            log.warning(
                "the database collates text by a locale: ingest spends more CPU comparing "
                "keys than with LC_COLLATE 'C' (README: Embedded services, and running on "
                "real ones)",
                collation=collation,
            )
        return await load_units(conn)


FAST_COLLATION = {"C", "POSIX", "builtin"}
"""Collations that compare text byte by byte (or code point by code point without the C
library). Every key this schema sorts and indexes is a code, and nothing is ordered by a
name: ``C.UTF-8`` made a sort by (source, event id) 1.6 × as long and an ingest worker's
PostgreSQL CPU per event 146.8 µs against 128.0 (medians; ``BENCHMARKS.md``)."""


async def database_collation(conn: AsyncConnection) -> str:
    """The current database's default collation: its ``LC_COLLATE``, ``builtin`` for
    PostgreSQL 17's built-in provider, ``icu`` for ICU (a locale's rules, whatever
    ``LC_COLLATE`` says)."""
    found = await conn.execute(
        text(
            "SELECT CASE datlocprovider WHEN 'b' THEN 'builtin' WHEN 'i' THEN 'icu' "
            "ELSE datcollate END "
            "FROM pg_database WHERE datname = current_database()"
        )
    )
    return str(found.scalar_one())

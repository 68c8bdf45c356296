"""Fixtures: a real PostgreSQL and a real Kafka-protocol broker for integration tests.

``IOC_DATABASE_URL`` / ``IOC_KAFKA_BOOTSTRAP`` point the suite at running services (CI runs
Apache Kafka); when unset, the embedded PostgreSQL and Tansu broker are started here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.tables import EVENT_TABLES as STREAMS
from ioc.embedded import embedded_broker, embedded_postgres
from ioc.services import upgrade
from models.db import make_engine
from models.settings import Settings
from models.tables import LIFECYCLE_UNIT_DAILY, EventKey, IngestReject, SourceFreshness
from models.tables.tiers import tier_tables
from tests.helpers import app_client

EVENT_TABLES = (
    *(spec.table.name for spec in STREAMS.values()),
    *(spec.lifecycle.table.name for spec in STREAMS.values() if spec.lifecycle),
    *tier_tables(),
    LIFECYCLE_UNIT_DAILY.name,
    SourceFreshness.__tablename__,
    IngestReject.__tablename__,
    EventKey.__tablename__,
)
"""Every table ingest writes, from the registries: what ``clean_db`` empties."""


def _configured_or(
    variable: str, embedded: Callable[[], AbstractContextManager[str]]
) -> Iterator[str]:
    """The service the environment variable points at, else an embedded one for the session."""
    configured = os.environ.get(variable)
    if configured:
        yield configured
        return
    with embedded() as address:
        yield address


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _configured_or(
        "IOC_DATABASE_URL",
        lambda: embedded_postgres(tmp_path_factory.mktemp("pg"), database="ioc_test"),
    )


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _configured_or(
        "IOC_KAFKA_BOOTSTRAP", lambda: embedded_broker(Path(tmp_path_factory.mktemp("broker")))
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await upgrade(database_url, engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_db(engine: AsyncEngine) -> AsyncEngine:
    """Empty event, roll-up and reject tables, so a test's counts are its own."""
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(EVENT_TABLES)}"))
    return engine


@pytest.fixture
def topic_prefix() -> str:
    """A prefix of the test's own, so topics and groups never see another test's events."""
    return f"t{uuid.uuid4().hex[:10]}"


ADMIN_API_KEY = "test-admin-key-0123456789abcdef"
"""Accepted as the bootstrap admin key by the ``api`` fixture's app."""


@pytest.fixture
async def api(clean_db: AsyncEngine, database_url: str) -> AsyncIterator[AsyncClient]:
    """The API in-process (httpx ASGI transport), an admin bootstrap key, no alerts or keys."""
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE alert, api_key"))
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0)
    async with app_client(database_url, settings=settings) as client:
        yield client


@pytest.fixture
async def uncached(clean_db: AsyncEngine, database_url: str) -> AsyncIterator[AsyncClient]:
    """The same API with the answer cache off: every answer computed afresh."""
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0, answer_cache_mb=0)
    async with app_client(database_url, settings=settings) as client:
        yield client

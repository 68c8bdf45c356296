"""Fixtures of the fault suite: a PostgreSQL of its own (so a test may stop it), a fresh
database per test, the broker (Apache Kafka in CI) and a fleet of ``ioc`` processes.

The suite runs only when asked for (``pytest -m faults``; ``.ci/run`` does).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.topics import ensure_topics
from ioc.embedded import create_database
from ioc.services import upgrade
from models.db import make_engine
from tests.faults.http import ADMIN_KEY, issue, issue_key
from tests.faults.services import Fleet, Proc, StoppablePostgres, fleet

_databases = itertools.count()


@pytest.fixture(scope="session")
def fault_pg() -> Iterator[StoppablePostgres]:
    # Not under pytest's basetemp: pytest keeps that 0700, and concurrent sessions re-tighten
    # it, while the server runs as another user when the tests run as root.
    base = Path(tempfile.mkdtemp(prefix="ioc-faults-pg-"))
    base.chmod(0o755)
    try:
        with StoppablePostgres(base) as pg:
            yield pg
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
async def fault_db(fault_pg: StoppablePostgres) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A new database on the fault tests' PostgreSQL, migrated: a test's counts are its own."""
    if not fault_pg.running():
        fault_pg.start()
    name = f"faults_{next(_databases)}"
    admin = fault_pg.url.replace("postgresql+psycopg://", "postgresql://").replace(
        "/ioc_faults?", "/postgres?"
    )
    create_database(admin, name)
    url = fault_pg.url.replace("/ioc_faults?", f"/{name}?")
    engine = make_engine(url)
    await upgrade(url, engine)
    yield url, engine
    await engine.dispose()


@pytest.fixture
def bootstrap(request: pytest.FixtureRequest) -> str:
    """Apache Kafka in CI (``IOC_KAFKA_BOOTSTRAP``), else the suite's embedded broker."""
    configured = os.environ.get("IOC_KAFKA_BOOTSTRAP")
    return configured or str(request.getfixturevalue("kafka_bootstrap"))


@pytest.fixture
def prefix() -> str:
    return f"f{uuid.uuid4().hex[:10]}"


def ioc_env(database_url: str, bootstrap: str, prefix: str) -> dict[str, str]:
    return {
        "IOC_DATABASE_URL": database_url,
        "IOC_KAFKA_BOOTSTRAP": bootstrap,
        "IOC_TOPIC_PREFIX": prefix,
        "IOC_CONSUMER_GROUP": f"{prefix}-ingest",
        "IOC_ADMIN_API_KEY": ADMIN_KEY,
        "IOC_ALERT_INTERVAL_SECONDS": "0",
        "IOC_BATCH_MAX_RECORDS": "500",
        "IOC_LOG_LEVEL": "INFO",
        "COLUMNS": "200",  # Rich wraps what the simulator prints at 80 columns otherwise
    }


@pytest.fixture
async def ioc(
    fault_db: tuple[str, AsyncEngine], bootstrap: str, prefix: str, tmp_path: Path
) -> AsyncIterator[Fleet]:
    """``ioc`` processes on the test's database, broker and topics (created up front)."""
    await ensure_topics(bootstrap, prefix, 3)
    with fleet(tmp_path, ioc_env(fault_db[0], bootstrap, prefix)) as procs:
        yield procs


@dataclass
class Served:
    """``ioc serve`` and one worker on the test's database and topics, and a key per role."""

    ioc: Fleet
    api: Proc
    worker: Proc
    http: httpx.AsyncClient
    port: int
    keys: dict[str, str]
    headers: dict[str, dict[str, str]]


@pytest.fixture
async def served(
    fault_db: tuple[str, AsyncEngine], bootstrap: str, prefix: str, tmp_path: Path
) -> AsyncIterator[Served]:
    with fleet(tmp_path, ioc_env(fault_db[0], bootstrap, prefix)) as ioc:
        worker = ioc.worker("worker-1")
        api, base = ioc.serve()
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            keys = {r: await issue_key(http, r) for r in ("public", "operator", "ingest", "admin")}
            revoked_id, keys["revoked"] = await issue(http, "operator")
            revoke = await http.delete(
                f"/api/v1/auth/keys/{revoked_id}", headers={"X-API-Key": ADMIN_KEY}
            )
            assert revoke.status_code == 204, revoke.text
            headers = {
                "anonymous": {},
                "wrong": {"X-API-Key": "ioc_this-is-not-a-key-0000"},
                "bearer": {"Authorization": f"Bearer {keys['admin']}"},
                **{role: {"X-API-Key": key} for role, key in keys.items()},
            }
            port = int(base.rsplit(":", 1)[1])
            yield Served(ioc, api, worker, http, port, keys, headers)

"""Databases the product creates compare text byte by byte; one that collates by a locale is
named at migration (``ioc.services.FAST_COLLATION`` says why)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ioc.embedded import create_database
from ioc.services import FAST_COLLATION, database_collation
from models.db import make_engine
from tests.test_cli_failures import _ioc

pytestmark = pytest.mark.integration


@pytest.fixture
def admin_dsn(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql", database="postgres")
    return url.render_as_string(hide_password=False)


@pytest.fixture
def database_name(admin_dsn: str) -> Iterator[str]:
    """A name for a database of the test's own, dropped afterwards."""
    name = f"ioc_collation_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url(database_url: str, name: str) -> str:
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)


async def _collation(url: str) -> str:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await database_collation(conn)
    finally:
        await engine.dispose()


def test_a_created_database_collates_by_byte(
    database_url: str, admin_dsn: str, database_name: str
) -> None:
    create_database(admin_dsn, database_name)
    assert asyncio.run(_collation(_url(database_url, database_name))) == "C"


def test_upgrade_names_a_database_that_collates_by_a_locale(
    database_url: str, admin_dsn: str, database_name: str
) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        found = conn.execute(
            "SELECT collcollate FROM pg_collation WHERE collprovider = 'c' "
            "AND collcollate NOT IN ('C', 'POSIX') AND collencoding IN (-1, 6) "
            "ORDER BY collcollate LIMIT 1"
        ).fetchone()
        if found is None:
            pytest.skip("the server knows no locale collation to make such a database with")
        conn.execute(
            f"CREATE DATABASE \"{database_name}\" TEMPLATE template0 LC_COLLATE '{found[0]}'"
        )
    url = _url(database_url, database_name)
    assert asyncio.run(_collation(url)) not in FAST_COLLATION
    result = _ioc("db", "upgrade", env={"IOC_DATABASE_URL": url}, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "collates text by a locale" in output and found[0] in output
    assert "schema at head" in output

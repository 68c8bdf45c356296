"""Commands fail with one sentence that says what to do, not with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ioc.embedded import free_port


def _ioc(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ioc.cli import main; main()", *args],
        env={**os.environ, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_an_unwritable_data_dir_is_one_sentence(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    env = {"IOC_DATA_DIR": str(not_a_dir / "data"), "IOC_DATABASE_URL": ""}
    result = _ioc("db", "upgrade", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("error: Cannot write") and "IOC_DATA_DIR" in lines[0]


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    """A database of its own on the test server, never migrated."""
    url = make_url(database_url)
    name = f"ioc_empty_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql", database="postgres")
    admin_dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.integration
def test_serve_on_a_database_never_migrated_says_to_upgrade(empty_database: str) -> None:
    env = {"IOC_DATABASE_URL": empty_database, "IOC_API_PORT": str(free_port())}
    result = _ioc("serve", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "not migrated" in result.stdout and "run `ioc db upgrade`" in result.stdout

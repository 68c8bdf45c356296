"""compose.yaml's topology, run as processes (no container engine here): a migration job,
two `ioc ingest` workers, two `ioc serve` replicas on their own ports, real Kafka and
PostgreSQL + TimescaleDB. Events go in once; both replicas give the same answers.

Run by ``.ci/run`` in its TimescaleDB stage (marker ``timescale``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from ingest.topics import ensure_topics
from ioc.embedded import free_port
from models.db import make_engine
from simulators.replay import replay
from simulators.sinks import KafkaSink
from tests.conftest import ADMIN_API_KEY
from tests.test_cli_failures import empty_database  # noqa: F401  (fixture)
from tests.test_indicators_golden import RECORDING, SNAPSHOTS, WINDOW

pytestmark = pytest.mark.timescale
PARTITIONS = 4
EXPECTED_EVENTS = 7245  # tests/data/README.md: the recording's clean events


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from ioc.cli import main; main()", *args]


def _migrate(env: dict[str, str]) -> None:
    """The compose file's one-off migration job."""
    job = subprocess.run(_command("db", "upgrade"), env=env, capture_output=True, check=False)
    assert job.returncode == 0, (job.stdout + job.stderr).decode()


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(_command(*args), env=env, stdout=out, stderr=subprocess.STDOUT)


def _logs(logs: Path) -> str:
    return "\n".join(f"{f.name}: {f.read_text()[-1500:]}" for f in sorted(logs.iterdir()))


@pytest.fixture
async def deployment(
    empty_database: str,  # noqa: F811
    kafka_bootstrap: str,
    topic_prefix: str,
    tmp_path: Path,
) -> AsyncIterator[tuple[str, list[str]]]:
    env = {
        **os.environ,
        "IOC_DATABASE_URL": empty_database,
        "IOC_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "IOC_TOPIC_PREFIX": topic_prefix,
        "IOC_TOPIC_PARTITIONS": str(PARTITIONS),
        "IOC_CONSUMER_GROUP": f"{topic_prefix}-ingest",
        "IOC_BATCH_TIMEOUT_MS": "200",
        "IOC_ADMIN_API_KEY": ADMIN_API_KEY,
        "IOC_DATA_DIR": str(tmp_path / "data"),
    }
    _migrate(env)
    await ensure_topics(kafka_bootstrap, topic_prefix, PARTITIONS)
    processes: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        for i in range(2):
            health = str(tmp_path / f"ingest{i}.health")
            processes.append(_spawn(["ingest", "--health-file", health], env, logs / f"i{i}.log"))
        urls = []
        for i in range(2):
            port = free_port()
            urls.append(f"http://127.0.0.1:{port}")
            api_env = {**env, "IOC_API_PORT": str(port)}
            processes.append(_spawn(["serve"], api_env, logs / f"api{i}.log"))
        async with httpx.AsyncClient(timeout=5) as client:
            for url in urls:
                await _until(lambda u=url: _ready(client, u), f"{url}/readyz", processes, logs)
        yield empty_database, urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(f"{url}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _until(
    check: Any, what: str, processes: list[subprocess.Popen[bytes]], logs: Path
) -> None:
    for _ in range(600):
        if await check():
            return
        if any(p.poll() is not None for p in processes):
            pytest.fail(f"a process exited while waiting for {what}:\n{_logs(logs)}")
        await asyncio.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


async def test_two_workers_and_two_replicas_answer_as_one(
    deployment: tuple[str, list[str]], kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    database_url, urls = deployment
    sink = KafkaSink(kafka_bootstrap, topic_prefix, PARTITIONS)
    try:
        sent = await replay(RECORDING, sink)
    finally:
        await sink.close()
    assert sent == EXPECTED_EVENTS
    engine = make_engine(database_url)
    try:

        async def stored() -> bool:
            async with engine.connect() as conn:
                total = await conn.scalar(text("SELECT sum(events) FROM source_freshness"))
            return total == EXPECTED_EVENTS

        await _until(stored, "every event stored", [], tmp_path)
        async with engine.connect() as conn:
            hypertables = await conn.scalar(
                text("SELECT count(*) FROM timescaledb_information.hypertables")
            )
    finally:
        await engine.dispose()
    assert hypertables, "the migration job made hypertables on TimescaleDB"
    headers = {"X-API-Key": ADMIN_API_KEY}
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        for name, code, query in SNAPSHOTS:
            answers = []
            for url in urls:
                response = await client.get(
                    f"{url}/api/v1/indicators/{code}/values", params={**WINDOW, **query}
                )
                assert response.status_code == 200, response.text
                answers.append(response.json()["values"])
            assert answers[0], f"{name}: the recording gives values"
            assert answers[0] == answers[1], name

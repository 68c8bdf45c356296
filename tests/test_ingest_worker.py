"""``ioc ingest`` as operators run it: one stream family, metrics, a health file, and a clean
stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ioc.embedded import free_port
from simulators.sinks import KafkaSink
from tests import ingest_builders as b
from tests.helpers import scalar, wait_for

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


async def test_worker_serves_metrics_and_stops_cleanly_on_sigterm(
    clean_db: AsyncEngine,
    database_url: str,
    kafka_bootstrap: str,
    topic_prefix: str,
    tmp_path: Path,
) -> None:
    health = tmp_path / "ingest.health"
    port = free_port()
    env = {
        **os.environ,
        "IOC_DATABASE_URL": database_url,
        "IOC_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "IOC_TOPIC_PREFIX": topic_prefix,
        "IOC_CONSUMER_GROUP": f"{topic_prefix}-ingest",
        "IOC_BATCH_TIMEOUT_MS": "200",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from ioc.cli import main; main()",
        "ingest",
        "--metrics-port",
        str(port),
        "--health-file",
        str(health),
        "--sectors",
        "health,education",
        env=env,
    )
    try:
        docs = [b.encounter(T0 + timedelta(minutes=i), i) for i in range(20)]
        docs.append({**docs[0], "subject": "99999", "id": "8f9c3f64-5717-4562-b3fc-2c963f66afa6"})
        docs.append(b.arrival(T0))  # another family: left to the tourism workers
        sink = KafkaSink(kafka_bootstrap, topic_prefix)
        await sink.send(docs)
        await sink.close()

        async def stored() -> bool:
            return await scalar(clean_db, "SELECT count(*) FROM health_encounter") == 20

        await wait_for(stored, 60, "the events stored", interval=0.2)
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        assert 'ioc_ingest_events_inserted_total{table="health_encounter"} 20.0' in metrics
        assert 'ioc_ingest_rejects_total{reason="unknown_unit"} 1.0' in metrics
        assert "ioc_ingest_batch_seconds_count" in metrics
        assert "ioc_ingest_consumer_lag{" in metrics
        assert orjson.loads(health.read_bytes())["status"] == "ok"
        assert await scalar(clean_db, "SELECT count(*) FROM tourism_arrival") == 0
        assert f"{topic_prefix}.tourism.arrival" not in metrics

        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), 30) == 0
        assert orjson.loads(health.read_bytes())["status"] == "stopped"
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()

"""compose.yaml is valid and keeps its promises: data on volumes, restarts, healthchecks that
gate start order. Checked with Debian's `docker-compose config` (no engine needed; .ci/run
installs it); marker ``deploy``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.deploy
ROOT = Path(__file__).resolve().parent.parent
JOBS = {"migrate"}
"""One-off jobs: they run to completion, so they have no healthcheck and restart on failure."""


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is not installed (.ci/run installs Debian's package)"
    result = subprocess.run(
        [binary, "-f", str(ROOT / "compose.yaml"), "config"],
        env={**os.environ, "IOC_DB_PASSWORD": "not-a-real-password"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return dict(yaml.safe_load(result.stdout))


def test_every_service_restarts_and_long_running_ones_are_health_checked(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert {"kafka", "db", "migrate", "ingest", "api"} <= set(services)
    for name, service in services.items():
        assert service.get("restart") in {"unless-stopped", "always", "on-failure"}, name
        if name not in JOBS:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_start_order_waits_for_health_not_for_start(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for dependency, rule in service.get("depends_on", {}).items():
            expected = "service_completed_successfully" if dependency in JOBS else "service_healthy"
            assert rule["condition"] == expected, (name, dependency)
    assert compose["services"]["api"]["depends_on"]["migrate"]


def test_kafka_and_the_database_keep_their_data_on_volumes(compose: dict[str, Any]) -> None:
    kafka, db = compose["services"]["kafka"], compose["services"]["db"]
    log_dirs = kafka["environment"]["KAFKA_LOG_DIRS"]
    assert any(str(v).split(":")[1] == log_dirs for v in _volumes(kafka))
    assert any(str(v).split(":")[1] == "/var/lib/postgresql/data" for v in _volumes(db))
    assert "timescaledb" in db["image"]
    assert set(compose["volumes"]) >= {"kafka-data", "db-data"}


def _volumes(service: dict[str, Any]) -> list[str]:
    return [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in service["volumes"]]

"""What a worker says about itself: the health file a probe reads, and the matching gauges.

``status`` is ``starting``, ``ok`` (consuming), ``waiting_for_database`` or
``waiting_for_broker`` (an outage is being waited out: the file is still rewritten at
every attempt, so a liveness probe sees a live worker, a readiness check sees why it is not
ready) and ``stopped``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import structlog

from ingest import metrics

log = structlog.get_logger("ingest")

DEPENDENCIES = ("database", "broker")


def write_health(path: Path, **status: object) -> None:
    """Atomically replace the health file (a probe reads whole files only)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(orjson.dumps({"at": datetime.now(UTC).isoformat(), **status}, default=str))
    tmp.replace(path)


class Health:
    """The worker's state, in its health file (when it has one) and its metrics."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self.status = "starting"
        metrics.HEALTHY.set(0)

    def _write(self, **fields: object) -> None:
        if self._path is not None:
            write_health(self._path, status=self.status, **fields)

    def starting(self) -> None:
        self.status = "starting"
        self._write()

    def ok(self, **fields: object) -> None:
        if self.status != "ok":
            log.info("consuming", previous=self.status)
        self.status = "ok"
        metrics.HEALTHY.set(1)
        for dependency in DEPENDENCIES:
            metrics.DEPENDENCY_UP.labels(dependency).set(1)
        self._write(**fields)

    def waiting(self, dependency: str, error: BaseException, attempt: int, delay: float) -> None:
        """An attempt failed on an unreachable dependency; the next one is in ``delay`` s."""
        self.status = f"waiting_for_{dependency}"
        metrics.HEALTHY.set(0)
        metrics.DEPENDENCY_UP.labels(dependency).set(0)
        metrics.RETRIES.labels(dependency).inc()
        log.warning(
            "waiting for the " + dependency,
            error=repr(error)[:300],
            attempt=attempt,
            retry_in_s=round(delay, 2),
        )
        self._write(dependency=dependency, error=repr(error)[:300], attempt=attempt)

    def stopped(self) -> None:
        self.status = "stopped"
        metrics.HEALTHY.set(0)
        self._write()

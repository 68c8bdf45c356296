"""``ioc ingest``: one worker of the consumer group, with metrics, a health file and a
graceful stop (SIGTERM/SIGINT finish the batch in hand, commit it and leave the group)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import structlog
from prometheus_client import start_http_server

from ingest.consumer import consume, group_for
from ingest.validation import Validator
from ingest.writer import Writer
from models.db import make_engine
from models.settings import Settings

log = structlog.get_logger("ingest")


async def run_worker(
    settings: Settings,
    *,
    database_url: str,
    bootstrap: str,
    metrics_port: int | None,
    health_file: Path | None,
    sectors: list[str] | None = None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if metrics_port:
        start_http_server(metrics_port, addr=settings.api_host)
        log.info("metrics served", url=f"http://{settings.api_host}:{metrics_port}/metrics")
    engine = make_engine(database_url)
    try:
        await consume(
            Writer(engine, Validator.from_settings(settings)),
            bootstrap=bootstrap,
            topic_prefix=settings.topic_prefix,
            group_id=group_for(settings.consumer_group, sectors),
            partitions=settings.topic_partitions,
            max_records=settings.batch_max_records,
            timeout_ms=settings.batch_timeout_ms,
            stop=stop,
            health_file=health_file,
            retention_days=settings.retention_days,
            sectors=sectors,
        )
        log.info("stopped: last batch committed, group left")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(sig)
        await engine.dispose()

"""The ``ioc`` command: one entry point for every stage of the pipeline."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console

from ioc import logs
from ioc.embedded import EmbeddedServiceError
from ioc.services import services, upgrade
from models.db import make_engine
from models.settings import Settings, get_settings

app = typer.Typer(
    help="Provincial IOC backend: sector streams → Kafka → PostgreSQL → indicators API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
apikey_app = typer.Typer(help="API keys for the IOC API.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
console = Console()


def _settings() -> Settings:
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json)
    return settings


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine; Ctrl-C or SIGTERM ends it cleanly (embedded services stopped)."""
    # SIGTERM takes the Ctrl-C path, so `finally` blocks stop the embedded services.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        asyncio.run(coro)
    except KeyboardInterrupt:
        console.print("interrupted")
    except EmbeddedServiceError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


def _require_free_port(host: str, port: int) -> None:
    with socket.socket() as sock:
        if sock.connect_ex((host, port)) == 0:
            console.print(
                f"[red]error:[/] {host}:{port} is already in use; set IOC_API_PORT to another port."
            )
            raise typer.Exit(1)


@app.command()
def demo(
    days: Annotated[int, typer.Option(min=0, max=90, help="Days of history to backfill.")] = 7,
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 2026,
) -> None:
    """Run the whole pipeline (simulator, broker, ingest, store, API) on embedded services."""
    from ioc.demo import run_demo

    settings = _settings()
    _require_free_port(settings.api_host, settings.api_port)
    try:
        with services(settings) as svc:
            _run(run_demo(settings, svc, days=days, seed=seed, console=console))
    except EmbeddedServiceError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


@app.command()
def serve() -> None:
    """Serve the indicators API (uses IOC_DATABASE_URL, else the embedded PostgreSQL)."""
    from app.main import create_app

    settings = _settings()
    _require_free_port(settings.api_host, settings.api_port)
    with services(settings, need_broker=False) as svc:
        uvicorn.run(
            create_app(svc.database_url, settings.kafka_bootstrap),
            host=settings.api_host,
            port=settings.api_port,
        )


@app.command()
def ingest(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus /metrics on this port.")
    ] = None,
    health_file: Annotated[
        Path | None, typer.Option(help="Rewrite this file after every poll (liveness).")
    ] = None,
) -> None:
    """Consume every event topic into the store (needs IOC_KAFKA_BOOTSTRAP); SIGTERM stops
    after the batch in hand is committed."""
    from ingest.worker import run_worker

    settings = _settings()
    bootstrap = _require_bootstrap(settings)
    with services(settings, need_broker=False) as svc:
        _run(
            run_worker(
                settings,
                database_url=svc.database_url,
                bootstrap=bootstrap,
                metrics_port=metrics_port or settings.ingest_metrics_port,
                health_file=health_file or settings.ingest_health_file,
            )
        )


@app.command()
def simulate(
    from_: Annotated[
        datetime | None, typer.Option("--from", help="Start (UTC if no offset); default: now.")
    ] = None,
    to: Annotated[
        datetime | None, typer.Option(help="End, exclusive; omit to keep streaming live.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed and range, same events.")] = 2026,
    sink: Annotated[str, typer.Option(help="kafka or file.")] = "kafka",
    out: Annotated[Path | None, typer.Option(help="Output file for --sink file (.gz ok).")] = None,
) -> None:
    """Generate seeded sector events for a time range (or live) into Kafka or a file."""
    from simulators.health import HealthEncounterStream
    from simulators.runner import backfill, live
    from simulators.sinks import EventSink, FileSink, KafkaSink

    settings = _settings()
    start = _utc(from_) if from_ else datetime.now(UTC)
    end = _utc(to) if to else None
    if end is not None and end <= start:
        raise typer.BadParameter("--to must be after --from")
    target: EventSink
    if sink == "file":
        if out is None:
            raise typer.BadParameter("--sink file needs --out PATH")
        target = FileSink(out)
    elif sink == "kafka":
        target = KafkaSink(_require_bootstrap(settings), settings.topic_prefix)
    else:
        raise typer.BadParameter(f"unknown sink {sink!r}; choose kafka or file")
    streams = [HealthEncounterStream(seed=seed)]

    async def run() -> None:
        try:
            if end is None:
                await live(streams, target, start)
            else:
                sent = await backfill(streams, target, start, end)
                console.print(f"{sent} events sent to {sink}")
        finally:
            await target.close()

    _run(run())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema and load the administrative units."""
    settings = _settings()
    with services(settings, need_broker=False) as svc:

        async def run() -> None:
            engine = make_engine(svc.database_url)
            try:
                units = await upgrade(svc.database_url, engine)
            finally:
                await engine.dispose()
            console.print(f"schema at head; {units} administrative units loaded")

        _run(run())


@db_app.command("maintain")
def db_maintain(
    retention_days: Annotated[
        int | None, typer.Option(min=1, help="Override IOC_RETENTION_DAYS for this run.")
    ] = None,
) -> None:
    """Create next month's event partitions and drop raw events past retention."""
    from ingest.maintenance import maintain

    settings = _settings()
    with services(settings, need_broker=False) as svc:

        async def run() -> None:
            engine = make_engine(svc.database_url)
            try:
                done = await maintain(
                    engine,
                    now=datetime.now(UTC),
                    retention_days=retention_days or settings.retention_days,
                )
            finally:
                await engine.dispose()
            console.print(
                f"{len(done.created)} partitions created, {len(done.dropped)} dropped, "
                f"{done.chunks_dropped} chunks dropped"
            )

        _run(run())


@apikey_app.command("create")
def apikey_create(
    role: Annotated[str, typer.Option(help="public, operator, ingest or admin.")],
    name: Annotated[str, typer.Option(help="Who or what holds the key.")] = "cli",
) -> None:
    """Issue an API key with a role; it is printed once and stored hashed."""
    from app.auth.cli import create_key

    settings = _settings()
    with services(settings, need_broker=False) as svc:

        async def run() -> None:
            engine = make_engine(svc.database_url)
            try:
                key = await create_key(engine, role=role, name=name)
            finally:
                await engine.dispose()
            console.print(f"{role} key for {name!r} (shown once): [bold]{key}[/]")

        _run(run())


def _require_bootstrap(settings: Settings) -> str:
    if not settings.kafka_bootstrap:
        console.print(
            "[red]error:[/] IOC_KAFKA_BOOTSTRAP is not set; the embedded broker lives in "
            "`ioc demo` only, so point this command at a running broker."
        )
        raise typer.Exit(1)
    return settings.kafka_bootstrap


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main() -> None:
    app()

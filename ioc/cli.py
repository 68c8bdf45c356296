"""The ``ioc`` command: one entry point for every stage of the pipeline."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import uvloop
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from ioc import logs
from ioc.errors import OperatorError
from ioc.server import api_server
from ioc.services import require_schema, services, upgrade
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
    """Run a coroutine; Ctrl-C or SIGTERM ends it cleanly (embedded services stopped).

    On uvloop (asyncio's semantics, libuv's loop): the API, the ingest workers and the
    simulators spend their time in socket I/O, which it does at a fraction of the CPU."""
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(coro)
    except KeyboardInterrupt:
        console.print("interrupted")


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
    scale: Annotated[
        float | None,
        typer.Option(
            min=0.001, help="Volume factor of the streams (1 = province); IOC_VOLUME_SCALE."
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(help="Play a scenario today (`ioc simulate --list-scenarios`)."),
    ] = None,
) -> None:
    """Run the whole pipeline (simulator, broker, ingest, store, API) on embedded services."""
    from ioc.demo import run_demo
    from simulators.scenarios import BY_NAME

    if scenario is not None and scenario not in BY_NAME:
        raise typer.BadParameter(f"unknown scenario {scenario!r}; choose from {', '.join(BY_NAME)}")
    settings = _scaled(_settings(), scale)
    _require_free_port(settings.api_host, settings.api_port)
    with services(settings) as svc:
        _run(
            run_demo(
                settings, svc, days=days, seed=seed, scale=settings.volume_scale, console=console,
                scenario=scenario,
            )
        )  # fmt: skip


@app.command()
def serve(
    processes: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="API processes on the port (default: IOC_API_PROCESSES)."),
    ] = None,
) -> None:
    """Serve the indicators API (uses IOC_DATABASE_URL, else the embedded PostgreSQL)."""
    from app.main import create_app
    from ioc.processes import bind, serve_processes

    settings = _settings()
    count = processes or settings.api_processes
    level = settings.log_level.lower()  # IOC_LOG_LEVEL=WARNING also quiets the access log
    _require_free_port(settings.api_host, settings.api_port)
    with services(settings, need_broker=False) as svc:

        async def schema() -> None:
            engine = make_engine(svc.database_url)
            try:
                await require_schema(engine)
            finally:
                await engine.dispose()

        async def run() -> None:
            await schema()
            app_ = create_app(svc.database_url, settings.kafka_bootstrap)
            await api_server(app_, settings.api_host, settings.api_port, level).serve()

        if count == 1:
            _run(run())
            return
        _run(schema())
        sock = bind(settings.api_host, settings.api_port)
        where = f"http://{settings.api_host}:{settings.api_port}"
        console.print(f"serving on {where} with {count} API processes")
        serve_processes(count, sock, svc.database_url, settings.kafka_bootstrap, level)


@app.command()
def ingest(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus /metrics on this port.")
    ] = None,
    health_file: Annotated[
        Path | None, typer.Option(help="Rewrite this file after every poll (liveness).")
    ] = None,
    sectors: Annotated[
        str | None,
        typer.Option(help="Only these stream families, e.g. health,public_service (own group)."),
    ] = None,
) -> None:
    """Consume the event topics into the store (needs IOC_KAFKA_BOOTSTRAP); SIGTERM stops
    after the batch in hand is committed."""
    from ingest.consumer import check_sectors
    from ingest.worker import run_worker

    settings = _settings()
    bootstrap = _require_bootstrap(settings)
    try:
        families = check_sectors(sectors.split(",")) if sectors else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    with services(settings, need_broker=False) as svc:
        _run(
            run_worker(
                settings,
                database_url=svc.database_url,
                bootstrap=bootstrap,
                metrics_port=metrics_port or settings.ingest_metrics_port,
                health_file=health_file or settings.ingest_health_file,
                sectors=families,
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
    streams: Annotated[
        str | None,
        typer.Option(help="Comma-separated: health,education,tourism,public_service,citizen."),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(help="Simulated seconds per real second (3600 = an hour a second)."),
    ] = None,
    sink: Annotated[str, typer.Option(help="kafka, http or file.")] = "kafka",
    out: Annotated[Path | None, typer.Option(help="Output file for --sink file (.gz ok).")] = None,
    url: Annotated[
        str | None, typer.Option(help="Base URL of the ingest gateway for --sink http.")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="IOC_SIMULATOR_API_KEY", help="API key for --sink http.")
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Inject faults KIND=RATE (repeatable): duplicates, out_of_order, late, "
            "malformed, schema, unknown_commune, silent, clock_skew."
        ),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option(min=0.001, help="Volume factor (1 = province); IOC_VOLUME_SCALE."),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(help="Apply a scenario (see --list-scenarios) on top of the streams."),
    ] = None,
    scenario_day: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Local day of the scenario; default: the range's last day (live: today).",
        ),
    ] = None,
    list_scenarios: Annotated[
        bool, typer.Option("--list-scenarios", help="List the scenarios and exit.")
    ] = False,
) -> None:
    """Generate seeded sector events for a time range (or live) into Kafka, HTTP or a file."""
    from simulators.command import (
        SinkOptions,
        make_sink,
        prepare,
        run_simulation,
        scenario_table,
    )
    from simulators.scenarios import BY_NAME, ScenarioRun, with_scenario
    from simulators.scenarios import scenario_day as default_day

    if list_scenarios:
        console.print(scenario_table())
        return
    settings = _scaled(_settings(), scale)
    start = _utc(from_) if from_ else datetime.now(UTC)
    end = _utc(to) if to else None
    if end is not None and end <= start:
        raise typer.BadParameter("--to must be after --from")
    base_url = url or f"http://{settings.api_host}:{settings.api_port}"
    options = SinkOptions(
        sink=sink,
        out=out,
        bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topic_prefix,
        partitions=settings.topic_partitions,
        url=base_url,
        api_key=api_key,
    )
    try:
        chosen, injector = prepare(
            seed, streams.split(",") if streams else None, fault or [], settings.volume_scale
        )
        day = scenario_day.date() if scenario_day else default_day(start, end)
        chosen = with_scenario(chosen, scenario, day, seed)
        target = make_sink(options)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    if scenario:
        console.print(f"scenario [bold]{scenario}[/] on {day:%Y-%m-%d} (local)")
        for closure in ScenarioRun(BY_NAME[scenario], day, seed).closures():
            console.print(
                f"it closes {', '.join(closure.kinds)} of unit {closure.unit_code} from "
                f"{closure.starts_at.isoformat()} to {closure.ends_at.isoformat()}: declare "
                "it with POST /api/v1/sources/closures (operator) so they owe nothing then"
            )

    async def run() -> None:
        await run_simulation(
            target,
            console=console,
            start=start,
            end=end,
            streams=chosen,
            injector=injector,
            speed=speed,
        )

    _run(run())


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines (.gz ok).")],
    speed: Annotated[
        float | None,
        typer.Option(help="Pace by event time (3600 = an hour a second); default: at once."),
    ] = None,
) -> None:
    """Send a recorded stream file to Kafka, bytes as recorded, each source in its order."""
    from simulators.command import run_replay
    from simulators.sinks import KafkaSink

    settings = _settings()
    target = KafkaSink(
        _require_bootstrap(settings), settings.topic_prefix, settings.topic_partitions
    )

    async def run() -> None:
        await run_replay(file, target, console=console, speed=speed)

    _run(run())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema and load the administrative units."""

    async def work(engine: AsyncEngine, url: str) -> None:
        units = await upgrade(url, engine)
        console.print(f"schema at head; {units} administrative units loaded")

    _on_database(work)


@db_app.command("maintain")
def db_maintain(
    retention_days: Annotated[
        int | None, typer.Option(min=1, help="Override IOC_RETENTION_DAYS for this run.")
    ] = None,
) -> None:
    """Create next month's event partitions, drop raw events past retention and prune the
    change log."""
    from ingest.maintenance import maintain

    keep = retention_days or _settings().retention_days

    async def work(engine: AsyncEngine, _: str) -> None:
        done = await maintain(engine, now=datetime.now(UTC), retention_days=keep)
        console.print(
            f"{len(done.created)} partitions created, {len(done.dropped)} dropped, "
            f"{done.chunks_dropped} chunks dropped, {done.changes_dropped} change-log rows pruned"
        )

    _on_database(work)


@apikey_app.command("create")
def apikey_create(
    role: Annotated[str, typer.Option(help="public, operator, ingest or admin.")],
    name: Annotated[str, typer.Option(help="Who or what holds the key.")] = "cli",
) -> None:
    """Issue an API key with a role; it is printed once and stored hashed."""
    from app.auth.cli import create_key

    async def work(engine: AsyncEngine, _: str) -> None:
        key = await create_key(engine, role=role, name=name)
        console.print(f"{role} key for {name!r} (shown once): [bold]{key}[/]")

    _on_database(work)


def _on_database(work: Callable[[AsyncEngine, str], Awaitable[None]]) -> None:
    """Run ``work`` with an engine on the configured database (else the embedded one, started
    and stopped around it) and its URL; the engine is disposed of however it ends."""
    settings = _settings()
    with services(settings, need_broker=False) as svc:

        async def run() -> None:
            engine = make_engine(svc.database_url)
            try:
                await work(engine, svc.database_url)
            finally:
                await engine.dispose()

        _run(run())


def _scaled(settings: Settings, scale: float | None) -> Settings:
    """The settings with ``--scale`` as the volume scale when given: the simulator sends at
    it, and an API made from these settings expects it (one declaration)."""
    if scale is not None:
        settings = settings.model_copy(update={"volume_scale": scale})
    return settings


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
    # SIGTERM takes the Ctrl-C path from the start, so the `finally` blocks that stop the
    # embedded services run whichever moment it arrives (uvicorn handles both while serving).
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        app()
        code = 0
    except OperatorError as exc:
        console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        code = 1
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # Everything the command started is stopped by now (its `finally` blocks ran); what is
    # left is the interpreter freeing its modules' objects one by one, which takes seconds
    # on a busy machine and would hold a supervisor's stop for nothing.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

"""``ioc demo``: simulator → broker → ingest → store → API in one process, on embedded services.

It backfills the last days as fast as the pipeline takes them, then streams live, while the
API serves what has landed so far.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.sources.closures import declare_once
from app.wall.keys import demo_keys
from ingest.consumer import consume
from ingest.topics import ensure_topics
from ingest.validation import Validator
from ingest.writer import BatchResult, Writer
from ioc.server import ApiServer, api_server
from ioc.services import Services, upgrade
from models.clock import floor_hour
from models.db import make_engine
from models.settings import Settings
from simulators.runner import backfill, live
from simulators.scenarios import BY_NAME, ScenarioRun, scenario_day, with_scenario
from simulators.sinks import KafkaSink
from simulators.streams import make_streams

INGEST_STOP_SECONDS = 2.0


@dataclass
class Counters:
    sent: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0

    def add(self, result: BatchResult) -> None:
        self.inserted += result.inserted
        self.duplicates += result.duplicates
        self.rejected += sum(result.rejected.values())


async def run_demo(
    settings: Settings,
    svc: Services,
    *,
    days: int,
    seed: int,
    console: Console,
    scale: float = 1.0,
    scenario: str | None = None,
) -> None:
    """Serve the demo until Ctrl-C or SIGTERM.

    ``scale`` is the streams' volume factor: at the province's full volume (1) a 7-day
    backfill is ~180,000 events (November), stored in about 16 s on a 2-core machine; lower
    it if a slower store falls behind.
    """
    engine = make_engine(svc.database_url)
    try:
        units = await upgrade(svc.database_url, engine)
        console.print(f"[green]✓[/] schema migrated, {units} administrative units loaded")
        await ensure_topics(svc.kafka_bootstrap, settings.topic_prefix, settings.topic_partitions)
        counters = Counters()
        # The demo always has an admin key (IOC_ADMIN_API_KEY, else the one kept in its data
        # directory) and a read-only wall key for the wall link, both printed below and kept
        # across restarts, so the operator views can be tried at once and the link stays good.
        keys = await demo_keys(engine, settings.data_dir, settings.admin_api_key)
        settings = settings.model_copy(update={"admin_api_key": keys.admin})
        if scenario is not None:
            await _declare_closures(engine, scenario, seed, console)
        server = api_server(
            create_app(svc.database_url, svc.kafka_bootstrap, settings=settings),
            settings.api_host,
            settings.api_port,
            log_level="warning",
        )
        stop_ingest = asyncio.Event()
        ingest = asyncio.create_task(
            consume(
                Writer(engine, Validator.from_settings(settings)),
                bootstrap=svc.kafka_bootstrap,
                topic_prefix=settings.topic_prefix,
                group_id=settings.consumer_group,
                partitions=settings.topic_partitions,
                max_records=settings.batch_max_records,
                timeout_ms=settings.batch_timeout_ms,
                on_batch=counters.add,
                stop=stop_ingest,
            ),
            name="ingest",
        )
        simulate = asyncio.create_task(
            _simulate(
                settings,
                svc,
                days=days,
                seed=seed,
                scale=scale,
                counters=counters,
                console=console,
                scenario=scenario,
            ),
            name="simulate",
        )
        for task in (ingest, simulate):
            task.add_done_callback(lambda t: _stop_on_failure(t, server, console))
        _print_banner(settings, svc, console, wall_key=keys.wall)
        # Simulator and consumer stop while the API lets its clients go, not after.
        server.on_exit(simulate.cancel)
        server.on_exit(stop_ingest.set)
        try:
            await server.serve()
        finally:
            # The consumer commits the batch in hand and leaves its group; one that takes
            # longer than that is cancelled, so Ctrl-C always ends the demo within seconds.
            simulate.cancel()
            stop_ingest.set()
            await asyncio.wait([ingest], timeout=INGEST_STOP_SECONDS)
            ingest.cancel()
            await asyncio.gather(ingest, simulate, return_exceptions=True)
            console.print(
                f"stopped: {counters.sent} events sent, {counters.inserted} stored, "
                f"{counters.duplicates} duplicates, {counters.rejected} rejected"
            )
    finally:
        await engine.dispose()


async def _declare_closures(engine: AsyncEngine, name: str, seed: int, console: Console) -> None:
    """The closures today's scenario declares (a flood's closed schools and desks), kept in
    the closure register so the closed sources owe nothing today."""
    run = ScenarioRun(BY_NAME[name], scenario_day(datetime.now(UTC), None), seed)
    async with engine.begin() as conn:
        for closure in run.closures():
            if await declare_once(conn, closure, f"scenario {name}"):
                console.print(f"[green]✓[/] closure declared: {closure.reason}")


async def _simulate(
    settings: Settings,
    svc: Services,
    *,
    days: int,
    seed: int,
    scale: float,
    counters: Counters,
    console: Console,
    scenario: str | None = None,
) -> None:
    now = datetime.now(UTC)
    # A scenario plays today (local), from its hour: on the backfilled part of the day it
    # is already on the wall; what comes later arrives live.
    today = scenario_day(now, None)
    streams = with_scenario(make_streams(seed, scale=scale), scenario, today, seed)
    if scenario:
        console.print(f"scenario [bold]{scenario}[/] plays today ({today:%Y-%m-%d})")
    sink = KafkaSink(svc.kafka_bootstrap, settings.topic_prefix)
    start = floor_hour(now - timedelta(days=days))
    try:
        with Progress(
            TextColumn("backfill {task.description}"),
            BarColumn(),
            TextColumn("{task.fields[sent]:>8,} sent  {task.fields[stored]:>8,} stored"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task(
                f"{start:%Y-%m-%d %H:%M} → now",
                total=(now - start).total_seconds(),
                sent=0,
                stored=0,
            )

            def progress(sent: int, at: datetime) -> None:
                counters.sent = sent
                bar.update(
                    task,
                    completed=(at - start).total_seconds(),
                    sent=sent,
                    stored=counters.inserted,
                )

            await backfill(streams, sink, start, now, progress)
            while counters.inserted + counters.duplicates + counters.rejected < counters.sent:
                bar.update(task, completed=(now - start).total_seconds(), stored=counters.inserted)
                await asyncio.sleep(0.2)
            bar.update(task, stored=counters.inserted)
        console.print("[green]✓[/] backfill stored; streaming live (Ctrl-C to stop)")
        base = counters.sent

        def live_progress(sent: int, at: datetime) -> None:
            counters.sent = base + sent

        await live(streams, sink, now, progress=live_progress)
    finally:
        # Closing flushes what is in flight; the sink has counted every message the broker
        # acknowledged, including a chunk whose send Ctrl-C interrupted.
        await sink.close()
        counters.sent = sink.delivered


def _stop_on_failure(task: asyncio.Task[None], server: ApiServer, console: Console) -> None:
    if task.cancelled() or task.exception() is None:
        return
    console.print(f"[red]✗ {task.get_name()} failed: {task.exception()!r}; stopping.[/]")
    server.should_exit = True


def _print_banner(settings: Settings, svc: Services, console: Console, *, wall_key: str) -> None:
    base = f"http://{settings.api_host}:{settings.api_port}"
    embedded = f" (embedded: {', '.join(svc.embedded)})" if svc.embedded else ""
    console.print(f"[bold]IOC demo[/]{embedded} — broker {svc.kafka_bootstrap}")
    for label, path in (
        ("API docs", "/docs"),
        (
            "daily encounters",
            "/api/v1/indicators/health.encounters/values?level=district&bucket=day",
        ),
        ("emergency share", "/api/v1/indicators/health.emergency_share/values?bucket=hour"),
        ("district ranking", "/api/v1/indicators/ps.on_time_rate/ranking?level=district"),
        ("live stream", "/api/v1/stream?indicator=health.encounters"),
    ):
        console.print(f"  {label:<20}{base}{path}", soft_wrap=True)
    console.print(f"  {'admin API key':<20}{settings.admin_api_key}")
    console.print(f"  {'wall display':<20}{base}/wall?api_key={wall_key}", soft_wrap=True)
    console.print(
        f"  {'sources (operator)':<20}curl -H 'X-API-Key: {settings.admin_api_key}' "
        f"{base}/api/v1/sources",
        soft_wrap=True,
    )

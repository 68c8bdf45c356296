"""What ``ioc simulate`` and ``ioc replay`` do, behind their options: pick the sink, run with
a Rich progress bar, and print a summary (events per stream, faults injected)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulators.base import Stream
from simulators.faults import FaultInjector, parse_faults
from simulators.replay import replay
from simulators.runner import RunStats, backfill, live, sped_up_clock
from simulators.scenarios import SCENARIOS
from simulators.sinks import DeliveryFailed, EventSink, FileSink, HttpSink, KafkaSink
from simulators.streams import make_streams

SINKS = ("kafka", "http", "file")


@dataclass(frozen=True)
class SinkOptions:
    sink: str
    out: Path | None = None
    bootstrap: str | None = None
    topic_prefix: str = "ioc"
    partitions: int | None = None
    url: str | None = None
    api_key: str | None = None


def prepare(
    seed: int, streams: Sequence[str] | None, faults: Sequence[str], scale: float
) -> tuple[list[Stream], FaultInjector | None]:
    """The streams and the fault injector the options ask for (``ValueError`` if wrong)."""
    rates = parse_faults(faults)
    return make_streams(seed, streams, scale), FaultInjector(seed, rates) if rates else None


def make_sink(options: SinkOptions) -> EventSink:
    """The sink the options name; a ``ValueError`` says what is missing."""
    if options.sink == "file":
        if options.out is None:
            raise ValueError("--sink file needs --out PATH")
        return FileSink(options.out)
    if options.sink == "kafka":
        if not options.bootstrap:
            raise ValueError("--sink kafka needs IOC_KAFKA_BOOTSTRAP")
        return KafkaSink(options.bootstrap, options.topic_prefix, options.partitions)
    if options.sink == "http":
        if not options.url or not options.api_key:
            raise ValueError("--sink http needs --url and --api-key (or IOC_SIMULATOR_API_KEY)")
        return HttpSink(options.url, options.api_key)
    raise ValueError(f"unknown sink {options.sink!r}; choose {', '.join(SINKS)}")


async def run_simulation(
    target: EventSink,
    *,
    console: Console,
    start: datetime,
    end: datetime | None,
    streams: Sequence[Stream],
    injector: FaultInjector | None,
    speed: float | None,
) -> RunStats:
    """Backfill ``[start, end)`` (or stream live when ``end`` is None) and print a summary."""
    chosen = list(streams)
    stats = RunStats()
    began = time.monotonic()
    try:
        if end is None:
            clock = sped_up_clock(start, speed or 1.0)
            console.print(f"streaming live from {start:%Y-%m-%d %H:%M} (Ctrl-C to stop)")
            await live(chosen, target, start, clock=clock, faults=injector, stats=stats)
        else:
            with _bar(console) as bar:
                task = bar.add_task("simulate", total=(end - start).total_seconds(), sent=0)

                def progress(sent: int, at: datetime) -> None:
                    bar.update(task, completed=(at - start).total_seconds(), sent=sent)

                await backfill(
                    chosen,
                    target,
                    start,
                    end,
                    progress,
                    faults=injector,
                    speed=speed,
                    stats=stats,
                )
    except DeliveryFailed as exc:
        console.print(f"[red]broker failure:[/] {exc}")
        if stats.resume_from is not None:
            console.print(
                f"resume with --from {stats.resume_from:%Y-%m-%dT%H:%M}Z and the same seed "
                "and options: that hour is sent again, and ingest de-duplicates what it "
                "already took"
            )
        raise SystemExit(1) from None
    finally:
        await target.close()
        if injector is not None:
            stats.faults = injector.counts
        console.print(summary(stats, time.monotonic() - began))
    return stats


async def run_replay(
    path: Path, target: EventSink, *, console: Console, speed: float | None
) -> int:
    with _bar(console) as bar:
        task = bar.add_task(path.name, total=None, sent=0)
        try:
            sent = await replay(path, target, speed, lambda n: bar.update(task, sent=n))
        finally:
            await target.close()
    console.print(f"{sent:,} messages replayed from {path}")
    return sent


def summary(stats: RunStats, seconds: float) -> Table:
    table = Table(title="simulated events", show_footer=True)
    total = sum(stats.generated.values())
    rate = f"{total / seconds:,.0f}/s" if seconds > 0 else ""
    table.add_column("event type", footer=f"total ({rate})")
    table.add_column("events", justify="right", footer=f"{total:,}")
    for event_type, count in sorted(stats.generated.items()):
        table.add_row(event_type.removeprefix("vn.gov.quangnam."), f"{count:,}")
    for kind, count in sorted(stats.faults.items()):
        table.add_row(f"[yellow]fault: {kind}[/]", f"{count:,}")
    table.add_row("messages delivered", f"{stats.sent:,}")
    if stats.undelivered:
        table.add_row("[red]messages not delivered[/]", f"{stats.undelivered:,}")
    return table


def _bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[sent]:>10,} sent"),
        TimeElapsedColumn(),
        console=console,
    )


def scenario_table() -> Table:
    """The declared scenarios (``ioc simulate --list-scenarios``)."""
    table = Table(title="scenarios (simulators/scenarios.py)", show_lines=True)
    for column in ("name", "district", "from", "what happens", "alerts it raises"):
        table.add_column(column)
    for s in SCENARIOS:
        table.add_row(
            s.name,
            s.district,
            f"{s.from_hour:02d}:00",
            f"{s.title_vi}\n{s.description_vi}\n[dim]{s.description_en}[/]",
            "\n".join(s.expected_alerts),
        )
    return table

"""The benchmark, one command: ceilings, simulate, ingest, a span of data, queries, live push,
growth. Starts an embedded PostgreSQL (or uses ``--database-url``), loads data, serves the API
in a child process and drives it with ``wrk`` over loopback; writes
``bench/results/<date>.json`` and a Markdown table beside it.

    ./run python -m bench            # a month at scale 1 (about 20 minutes on 2 cores)
    ./run python -m bench --quick    # a day at scale 0.1: proves the harness (CI)
    ./run python -m bench --days 365 --scale 0.25
    ./run python -m bench --loaded --days 365 --database-url URL   # queries on data loaded
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import limits, memory
from bench.http_load import api_server, check_all_answer, wrk
from bench.pipeline import pipeline
from bench.report import markdown
from bench.sse_load import feed, sse_latency, sse_live_latency
from ingest.deadletter import RawMessage
from ingest.statistics import statistics_kept
from ingest.writer import Writer
from ioc.embedded import embedded_postgres
from ioc.logs import configure
from ioc.services import upgrade
from models.db import at_rest, make_engine
from models.events import dump_event
from models.settings import Settings
from simulators.base import Stream
from simulators.runner import collect
from simulators.streams import make_streams

RESULTS = Path(__file__).parent / "results"
BATCH = Settings().batch_max_records
"""The ingest worker's batch, as deployed."""
GROWTH_DAYS = (1, 10, 100, 365)


@contextlib.asynccontextmanager
async def database(url: str | None) -> AsyncIterator[tuple[AsyncEngine, str]]:
    with contextlib.ExitStack() as stack:
        if url is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ioc-bench-"))
            url = stack.enter_context(embedded_postgres(Path(tmp), "bench"))
        engine = make_engine(url)
        try:
            await upgrade(url, engine)
            yield engine, url
        finally:
            await engine.dispose()


def day_messages(streams: list[Stream], day: datetime) -> tuple[list[RawMessage], float]:
    """One day of every stream, as raw messages, and the seconds simulating it took.

    The same ``streams`` serve day after day, as a live run's do: a lifecycle stream keeps
    the cohorts of its horizon (60 days of dossiers) drawn, so a day costs its own events,
    not the horizon's cohorts drawn again (the events are the same either way)."""
    started = time.perf_counter()
    docs = collect(streams, day, day + timedelta(days=1))
    messages = [RawMessage("bench", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    return messages, time.perf_counter() - started


def questions(start: date, end: date) -> list[str]:
    """Year-scale questions: province and district, day/week/month, a ranking, a month of
    communes by day, a lifecycle rate, and the span's district/day export (streamed CSV)."""
    span = f"from={start.isoformat()}&to={end.isoformat()}"
    month = f"from={max(start, end - timedelta(days=30)).isoformat()}&to={end.isoformat()}"
    v = "/api/v1/indicators/{}/values?level={}&bucket={}&{}"
    return [
        v.format("health.encounters", "district", "month", span),
        v.format("health.encounters", "province", "day", span),
        v.format("tourism.visitors", "district", "week", span),
        v.format("ps.online_submission_rate", "district", "month", span),
        v.format("ps.on_time_rate", "province", "day", span),
        v.format("health.encounters", "commune", "day", month),
        f"/api/v1/indicators/health.encounters/ranking?level=district&bucket=month"
        f"&period={start.isoformat()}",
        f"/api/v1/export/health.encounters.csv?level=district&bucket=day&{span}",
    ]


def machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {
        "machine": machine(),
        "settings": vars(args) | {"start": str(args.start)},
    }
    # Statistics refreshed beside the writer, as a deployed worker does (ingest.statistics).
    async with database(args.database_url) as (engine, url), statistics_kept(engine):
        async with engine.connect() as conn:
            out["machine"]["postgresql"] = await conn.scalar(text("SHOW server_version"))
        with api_server(url, args.scale, processes=args.api_processes) as base:
            if args.loaded:
                span_end = args.start + timedelta(days=args.days)
            else:
                span_end = await load(engine, base, args, out)
            paths = questions(args.start, span_end)
            settled_after = await at_rest(engine)  # queries timed on data at rest
            alone = check_all_answer(base, paths)
            one = wrk(base, paths, clients=1, seconds=args.query_seconds, database_url=url)
            many = wrk(
                base, paths, clients=args.clients, seconds=args.query_seconds, database_url=url
            )
            fed = await under_feed(engine, base, paths, args, url)
            out["query"] = {"p95_ms": one["p95_ms"], "alone_ms": alone, "one_client": one,
                            "concurrent": many, "under_feed": fed,
                            "quiet_after_s": settled_after}  # fmt: skip
            out["sse"] = await sse_latency(
                engine, url, base, clients=args.sse_clients, batches=args.sse_batches
            )
            out["sse_live"] = await sse_live_latency(
                engine, url, base, clients=args.sse_clients, batches=args.sse_live_batches,
                interval=args.sse_interval,
            )  # fmt: skip
            out["memory"] = memory.peaks(url)
        with api_server(url, args.scale, answer_cache=False, processes=args.api_processes) as base:
            paths = questions(args.start, span_end)
            one = wrk(base, paths, clients=1, seconds=args.query_seconds, database_url=url)
            many = wrk(
                base, paths, clients=args.clients, seconds=args.query_seconds, database_url=url
            )
            out["query_computed"] = {"p95_ms": one["p95_ms"], "one_client": one,
                                     "concurrent": many}  # fmt: skip
        async with engine.connect() as conn:
            size = await conn.scalar(text("SELECT pg_database_size(current_database())"))
        out["database_mb"] = round(size / 2**20, 1)
        out["machine"]["load_average_at_end"] = os.getloadavg()
    return out


async def under_feed(
    engine: AsyncEngine, base: str, paths: list[str], args: argparse.Namespace, url: str
) -> dict[str, Any]:
    """The concurrent query load again while a live feed of encounters timed now commits a
    batch every ``--sse-interval`` seconds, as a province's ingest does all day: a kept
    answer a batch may change (one about the last week) is computed again under load."""
    stop = asyncio.Event()
    feeding = asyncio.create_task(feed(engine, args.sse_interval, stop))
    try:
        result = await asyncio.to_thread(
            wrk, base, paths, clients=args.clients, seconds=args.query_seconds, database_url=url
        )
    finally:
        stop.set()
        batches = await feeding
    return result | {"feed_batches": batches, "feed_interval_s": args.sse_interval}


async def load(
    engine: AsyncEngine, base: str, args: argparse.Namespace, out: dict[str, Any]
) -> date:
    """Simulate and write ``args.days`` days, one writer, probing the API at the growth
    points; fills ``simulate``, ``limits``, ``ingest``, ``year`` and ``growth`` in ``out``
    and returns the end of the span loaded."""
    first_day = datetime.combine(args.start, datetime.min.time(), tzinfo=UTC) - timedelta(hours=7)
    streams = make_streams(args.seed, scale=args.scale)
    messages, sim_seconds = day_messages(streams, first_day)
    simulated = len(messages)
    sample = messages[: args.ceiling_rows]
    decode = limits.decode_ceiling(sample)
    copy = await limits.copy_ceiling(engine, sample, BATCH)
    out["limits"] = {"decode_per_s": round(decode), "copy_rows_per_s": round(copy),
                     "rows": len(sample)}  # fmt: skip
    piped = None
    if args.pipeline_days:
        # The target's ceiling: the lower of COPY and what one consumer reads from the
        # broker and validates (decode alone, without the broker, is higher).
        piped = await pipeline(first_day, args.pipeline_days, args.scale, args.seed)
        decode = out["limits"]["consume_decode_per_s"] = piped["consume_decode_per_s"]
    ceiling = min(decode, copy)
    out["limits"]["ceiling_per_s"] = round(ceiling)
    if piped:
        piped["ingest"]["ratio_to_ceiling"] = round(piped["ingest"]["events_per_s"] / ceiling, 3)
        out["pipeline"] = piped
    writer = Writer(engine)
    consumed = inserted = 0
    write_seconds = 0.0
    growth: list[dict[str, Any]] = []
    span_end = args.start
    for n in range(args.days):
        day = first_day + timedelta(days=n)
        if n:
            messages, seconds = day_messages(streams, day)
            sim_seconds += seconds
            simulated += len(messages)
        started = time.perf_counter()
        for i in range(0, len(messages), BATCH):
            result = await writer.write(messages[i : i + BATCH])
            inserted += result.inserted
        day_seconds = time.perf_counter() - started
        write_seconds += day_seconds
        consumed += len(messages)
        span_end = args.start + timedelta(days=n + 1)
        if n + 1 in GROWTH_DAYS or n + 1 == args.days:
            paths = questions(args.start, span_end)
            check_all_answer(base, paths)
            probe = wrk(base, paths, clients=1, seconds=args.probe_seconds)
            growth.append({
                "days": n + 1, "events": consumed,
                "ingest_events_per_s": round(len(messages) / day_seconds),
                "query_p95_ms": probe["p95_ms"],
            })  # fmt: skip
            print(f"day {n + 1}: {consumed:,} events, {growth[-1]}", flush=True)
    out["simulate"] = {"events": simulated, "seconds": round(sim_seconds, 2),
                       "events_per_s": round(simulated / sim_seconds)}  # fmt: skip
    out["ingest"] = {
        "events": consumed, "stored": inserted, "seconds": round(write_seconds, 1),
        "events_per_s": round(consumed / write_seconds),
        "ratio_to_ceiling": round(consumed / write_seconds / ceiling, 3),
    }  # fmt: skip
    out["year"] = {
        "seconds": round(write_seconds, 1), "events": consumed, "days": args.days,
        "scale": args.scale,
        "extrapolated_province_year_seconds": round(write_seconds * 365 / args.days / args.scale),
    }  # fmt: skip
    out["growth"] = growth
    return span_end


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a day at scale 0.1, short loads")
    parser.add_argument("--database-url", help="use this PostgreSQL (default: embedded, temp)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--api-processes", type=int, default=1,
        help="API processes serving the queries and the live stream (IOC_API_PROCESSES)",
    )  # fmt: skip
    parser.add_argument("--sse-clients", type=int, default=200)
    parser.add_argument("--sse-batches", type=int, default=3)
    parser.add_argument("--sse-live-batches", type=int, default=10)
    parser.add_argument(
        "--sse-interval", type=float, default=1.0, help="seconds between live batches"
    )
    parser.add_argument("--query-seconds", type=int, default=20)
    parser.add_argument("--probe-seconds", type=int, default=5)
    parser.add_argument("--ceiling-rows", type=int, default=100_000)
    parser.add_argument(
        "--pipeline-days", type=int, default=1,
        help="days sent through the embedded broker to one ingest worker, end to end "
        "(0: none); their consumer's rate is the ingest ceiling's consume + decode",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--loaded",
        action="store_true",
        help="--database-url already holds --days days from --start: measure queries and "
        "live push only",
    )
    args = parser.parse_args()
    if args.loaded and not args.database_url:
        parser.error("--loaded measures data already loaded: give --database-url")
    if args.quick:
        args.days, args.scale, args.clients, args.sse_clients = 1, 0.1, 10, 20
        args.query_seconds, args.probe_seconds, args.ceiling_rows = 3, 2, 20_000
    configure("WARNING")
    results = asyncio.run(run(args))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    name = f"{stamp}{'-quick' if args.quick else ''}"
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (args.out / f"{name}.md").write_text(markdown(results))
    print(markdown(results))
    print(f"written {args.out / name}.json")


if __name__ == "__main__":
    main()

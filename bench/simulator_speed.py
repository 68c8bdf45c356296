"""Generation speed of the simulators: events per second, per stream and for all together.

Run: ``./run python bench/simulator_speed.py [--days 7] [--seed 2026]``. It times a warm-up-free
backfill of each stream into memory (documents, not bytes) and of all streams into a gzip
JSON-lines file (documents encoded and compressed), so the figures bound what the demo and
``ioc simulate`` can produce on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from simulators.runner import backfill, collect
from simulators.sinks import FileSink
from simulators.streams import make_streams

START = datetime(2025, 3, 2, 17, tzinfo=UTC)  # Monday 3 March 2025, 00:00 local


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    end = START + timedelta(days=args.days)
    print(f"{args.days} days from {START + timedelta(hours=7):%Y-%m-%d}, seed {args.seed}")
    for stream in make_streams(args.seed):
        collect([stream], START - timedelta(hours=1), START)  # lifecycle cohorts warm up
        began = time.perf_counter()
        events = collect([stream], START, end)
        seconds = time.perf_counter() - began
        label = type(stream).__name__
        print(f"  {label:<24}{len(events):>10,} events {len(events) / seconds:>12,.0f} events/s")
    streams = make_streams(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        sink = FileSink(Path(folder) / "all.jsonl.gz")
        began = time.perf_counter()
        sent = asyncio.run(backfill(streams, sink, START, end))
        asyncio.run(sink.close())
        seconds = time.perf_counter() - began
    print(f"  {'all streams → gzip file':<24}{sent:>10,} events {sent / seconds:>12,.0f} events/s")


if __name__ == "__main__":
    main()

"""Bench: end-to-end throughput of one ingest worker's database side (validate, COPY, roll-ups,
lifecycle merges, freshness, notice), and of two workers side by side.

    ./run python bench/ingest_writer.py [--batches 10] [--size 2000]
    ./run python bench/ingest_writer.py --scale 0.5 [--days 2] [--workers 2]

Without ``--scale``: a mix of every stream (``tests.ingest_builders``), new then replayed.
With ``--scale``: simulated days of every stream (as ``python -m bench`` ingests them),
after the machine's ceilings measured in the same run (``bench/limits.py``); the first day
warms the caches and the last days give ``events_per_s`` and ``ratio_to_ceiling``. With
``--workers 2`` the same days are then written again, into a fresh database, by two
processes at once, each given the sources one Kafka partition of two would carry (messages
are keyed by source): ``scaling`` is their combined rate over the one worker's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import limits
from bench.ingest_support import bench_database
from ingest.deadletter import RawMessage
from ingest.writer import Writer
from models.db import make_engine
from models.events import dump_event
from models.settings import Settings
from tests import ingest_builders as b

FIRST_DAY = datetime(2025, 3, 3, tzinfo=UTC) - timedelta(hours=7)


def mixed(batch: int, size: int) -> list[RawMessage]:
    """``size`` events, the streams in the proportions a province sends them."""
    t0 = datetime(2025, 3, 3, tzinfo=UTC) + timedelta(hours=batch)
    docs = []
    for i in range(size):
        at = t0 + timedelta(seconds=i)
        k = batch * size + i
        pick = i % 10
        if pick < 5:
            docs.append(b.encounter(at, i))
        elif pick == 5:
            docs.append(b.claim(at, i))
        elif pick == 6:
            docs.append(b.arrival(at, i))
        elif pick == 7:
            docs.append(b.dossier(f"D-{k // 2}", ("received", "completed")[k % 2], at, t0))
        elif pick == 8:
            docs.append(b.report(f"R-{k // 2}", ("received", "resolved")[k % 2], at, t0))
        else:
            docs.append(b.bed_census(at, 100 + i % 50))
    return [RawMessage("bench", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]


async def builders(n: int, size: int) -> None:
    work = [mixed(k, size) for k in range(n)]
    total = n * size
    async with bench_database() as engine:
        writer = Writer(engine)
        for label in ("new", "replay"):
            started = time.perf_counter()
            inserted = 0
            for messages in work:
                inserted += (await writer.write(messages)).inserted
            seconds = time.perf_counter() - started
            print(
                f"{label:>6}: {total / seconds:>8,.0f} events/s "
                f"({inserted} stored, {n} batches of {size})"
            )


def simulated(scale: float, days: int) -> list[list[RawMessage]]:
    """Each day of every stream, simulated, as raw messages keyed by source (as sent)."""
    from simulators.runner import collect
    from simulators.streams import make_streams

    out = []
    for n in range(days):
        day = FIRST_DAY + timedelta(days=n)
        docs = collect(make_streams(7, scale=scale), day, day + timedelta(days=1))
        out.append(
            [
                RawMessage("bench", 0, i, str(d["source"]).encode(), dump_event(d))
                for i, d in enumerate(docs)
            ]
        )
    return out


async def write_days(url: str, days: list[list[RawMessage]], size: int) -> list[Spent]:
    """What each day took one writer, in batches of ``size``."""
    engine = make_engine(url)
    try:
        writer = Writer(engine)
        async with engine.connect() as conn:
            server = _parent(int(await conn.scalar(text("SELECT pg_backend_pid()"))))
        spent = []
        for messages in days:
            started = time.perf_counter(), time.process_time(), *_server_cpu(server)
            for i in range(0, len(messages), size):
                await writer.write(messages[i : i + size])
            server_cpu, backend_cpu = _server_cpu(server)
            spent.append(
                Spent(
                    time.perf_counter() - started[0],
                    time.process_time() - started[1],
                    server_cpu - started[2],
                    backend_cpu - started[3],
                )
            )
        return spent
    finally:
        await engine.dispose()


@dataclass
class Spent:
    """Wall seconds, this process's CPU seconds, the database server's CPU seconds (every
    process of the cluster: on a shared machine the CPU figures vary less than the wall),
    and of it the client backends' (the statements' own work)."""

    wall: float
    cpu: float
    server_cpu: float
    backend_cpu: float


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _parent(pid: int) -> int:
    return int(_stat(pid)[1])


def _server_cpu(postmaster: int) -> tuple[float, float]:
    """CPU seconds (user + system) so far of the postmaster and its children, and of the
    backends serving client connections alone (the work a batch's statements do, without
    the WAL writer, checkpointer, autovacuum): one pass over ``/proc``."""
    ticks = client_ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            fields = _stat(pid)
            if pid != postmaster and int(fields[1]) != postmaster:
                continue
            used = int(fields[11]) + int(fields[12])
            if _is_client_backend(pid):
                client_ticks += used
        except (OSError, IndexError):
            continue  # gone meanwhile
        ticks += used
    return ticks / _TICK, client_ticks / _TICK


def _is_client_backend(pid: int) -> bool:
    """A backend serving a client connection: its title names the client, ``[local]`` for
    a unix socket, ``host(port)`` for TCP (``postgres: user db [local] idle``)."""
    title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    return " [local]" in title or bool(re.search(r" \S+\(\d+\) ", title))


def _worker(url: str, days: list[list[RawMessage]], size: int, go: Any, out: Any) -> None:
    go.wait()
    out.put(asyncio.run(write_days(url, days, size)))


def partition_of(msg: RawMessage, partitions: int) -> int:
    """A stable partition per key, as a keyed producer spreads messages (not Kafka's hash)."""
    return zlib.crc32(msg.key or b"") % partitions


async def by_simulation(scale: float, n_days: int, size: int, workers: int) -> dict[str, Any]:
    days = simulated(scale, n_days)
    measured = slice(1, None) if n_days > 1 else slice(None)
    events = sum(len(d) for d in days[measured])
    out: dict[str, Any] = {"scale": scale, "days": n_days, "batch": size}
    async with bench_database() as engine:
        sample = [m for d in days for m in d][:100_000]
        decode = limits.decode_ceiling(sample)
        copy = await limits.copy_ceiling(engine, sample, size)
        out["limits"] = {"decode_per_s": round(decode), "copy_rows_per_s": round(copy)}
        url = engine.url.render_as_string(hide_password=False)
        spent = (await write_days(url, days, size))[measured]
        rate = events / sum(s.wall for s in spent)
        out["ingest"] = {
            "events": events,
            "events_per_s": round(rate),
            "ratio_to_ceiling": round(rate / min(decode, copy), 3),
            "ratio_to_copy": round(rate / copy, 4),
            "writer_cpu_us_per_event": round(sum(s.cpu for s in spent) / events * 1e6, 1),
            "server_cpu_us_per_event": round(sum(s.server_cpu for s in spent) / events * 1e6, 1),
        }
        backend_us = sum(s.backend_cpu for s in spent) / events * 1e6
        # A batch is one transaction, and PostgreSQL runs a transaction's statements in the
        # one backend of its connection, one after the other: however little the worker's
        # Python cost, one worker cannot store more events a second than that backend's
        # CPU per event allows.
        # And the writer's Python and PostgreSQL's work share the machine's cores: spent
        # on all of them at once with no time lost, they allow this many events a second.
        cpu_us = (sum(s.cpu + s.server_cpu for s in spent)) / events * 1e6
        cores = os.cpu_count() or 1
        out["floor"] = {
            "backend_cpu_us_per_event": round(backend_us, 1),
            "one_worker_events_per_s_at_most": round(1e6 / backend_us) if backend_us else None,
            "cores": cores,
            "all_cores_events_per_s_at_most": round(cores * 1e6 / cpu_us),
            "target_events_per_s": round(0.6 * min(decode, copy)),
        }
    if workers > 1:
        async with bench_database() as engine:
            url = engine.url.render_as_string(hide_password=False)
            ctx = multiprocessing.get_context("spawn")
            go, results = ctx.Event(), ctx.Queue()
            procs = [
                ctx.Process(
                    target=_worker,
                    args=(
                        url,
                        [[m for m in d if partition_of(m, workers) == w] for d in days],
                        size,
                        go,
                        results,
                    ),
                )
                for w in range(workers)
            ]
            for p in procs:
                p.start()
            await asyncio.sleep(3)  # each child imports and connects before the start
            go.set()
            per_worker = [results.get() for _ in procs]
            for p in procs:
                p.join()
        wall = max(sum(s.wall for s in spent[measured]) for spent in per_worker)
        out["workers"] = {
            "workers": workers,
            "events_per_s": round(events / wall),
            "scaling": round(events / wall / rate, 2),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument(
        "--size", type=int, default=Settings().batch_max_records, help="events per batch"
    )
    parser.add_argument("--scale", type=float, help="simulated days at this scale")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.scale is None:
        asyncio.run(builders(args.batches, args.size))
    else:
        found = asyncio.run(by_simulation(args.scale, args.days, args.size, args.workers))
        print(json.dumps(found))


if __name__ == "__main__":
    main()

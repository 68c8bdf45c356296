"""Bench: end-to-end throughput of one ingest worker's database side (validate, COPY, roll-ups,
lifecycle merges, freshness, notice) on a mix of every stream, new and replayed.

    ./run python bench/ingest_writer.py [--batches 10] [--size 2000]
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.ingest_support import bench_database, run
from ingest.deadletter import RawMessage
from ingest.writer import Writer
from models.events import dump_event
from tests import ingest_builders as b


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


async def main(n: int, size: int) -> None:
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


if __name__ == "__main__":
    run(__doc__ or "", main)

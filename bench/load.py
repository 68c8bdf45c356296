"""Feed a recorded stream file to one ingest writer (no broker): the database side alone.

./run python -m bench.load FILE [--database-url URL] [--size 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.deadletter import RawMessage
from ingest.writer import Writer
from ioc.services import upgrade
from models.db import make_engine
from simulators.replay import read_messages


@dataclass(frozen=True, slots=True)
class Loaded:
    consumed: int
    inserted: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.consumed / self.seconds if self.seconds else 0.0


async def load_file(
    engine: AsyncEngine,
    path: Path,
    size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> Loaded:
    """Write the file's messages in batches of ``size``, as one worker would."""
    writer = Writer(engine)
    messages = (
        RawMessage(m.event_type, 0, offset, m.key, m.value)
        for offset, m in enumerate(read_messages(path))
    )
    consumed = inserted = 0
    started = time.perf_counter()
    while batch := list(itertools.islice(messages, size)):
        result = await writer.write(batch)
        consumed += result.consumed
        inserted += result.inserted
        if progress:
            progress(consumed)
    return Loaded(consumed, inserted, time.perf_counter() - started)


async def _main(path: Path, url: str, size: int) -> None:
    engine = make_engine(url)
    try:
        await upgrade(url, engine)

        def progress(n: int) -> None:
            if n % (size * 50) == 0:
                print(f"{n:>10,} consumed", flush=True)

        loaded = await load_file(engine, path, size, progress)
        print(
            f"{loaded.consumed:,} consumed, {loaded.inserted:,} stored in "
            f"{loaded.seconds:.1f} s: {loaded.events_per_s:,.0f} events/s"
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--size", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(_main(args.file, args.database_url, args.size))

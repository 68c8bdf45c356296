"""What the ingest benches share: a throw-away migrated PostgreSQL and the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ioc.embedded import embedded_postgres
from ioc.services import upgrade
from models.db import make_engine


@contextlib.asynccontextmanager
async def bench_database() -> AsyncIterator[AsyncEngine]:
    """An embedded PostgreSQL in a temporary folder, migrated, gone afterwards."""
    with tempfile.TemporaryDirectory() as tmp, embedded_postgres(Path(tmp), "bench") as url:
        engine = make_engine(url)
        try:
            await upgrade(url, engine)
            yield engine
        finally:
            await engine.dispose()


def run(doc: str, main: Callable[[int, int], Coroutine[Any, Any, None]]) -> None:
    """``--batches`` and ``--size`` from the command line, then run the bench."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--size", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.batches, args.size))

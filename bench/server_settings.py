"""Bench: one writer's rate day by day as its database grows, under given PostgreSQL settings.

    ./run python bench/server_settings.py --scale 1 --days 30 '{}' '{"shared_buffers": "4GB"}'

Each settings object (JSON, ``ALTER SYSTEM`` names and values) gets a fresh embedded
PostgreSQL, restarted with them, and the same simulated days written in batches as the
worker takes them. Whether the server's memory holds back ingest once the tables and their
keys outgrow it (``shared_buffers`` is 128 MB on the embedded server) is read off the
per-day rates: the first and the last days, for each setting, in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from bench.ingest_writer import simulated, write_days
from ioc.embedded import embedded_postgres, pg_ctl
from ioc.services import upgrade
from models.db import make_engine
from models.settings import Settings


def _pg_ctl(pgdata: Path, *args: str) -> None:
    pg_ctl(pgdata, "-w", "-m", "fast", "-l", str(pgdata / "log"), *args)


def one(days: list[Any], settings: dict[str, str], size: int) -> dict[str, Any]:
    """The days written into a fresh server under ``settings``: the rate of each."""
    with tempfile.TemporaryDirectory() as tmp, embedded_postgres(Path(tmp), "bench") as url:
        pgdata = (Path(tmp) / "postgres").resolve()
        admin = url.replace("postgresql+psycopg", "postgresql").replace("/bench?", "/postgres?")
        with psycopg.connect(admin, autocommit=True) as conn:
            for name, value in settings.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        _pg_ctl(pgdata, "restart")
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                shown = {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in settings}  # type: ignore[index]
            engine = make_engine(url)
            asyncio.run(upgrade(url, engine))
            spent = asyncio.run(write_days(url, days, size))
            with psycopg.connect(admin, autocommit=True) as conn:
                size_b = conn.execute("SELECT pg_database_size('bench')").fetchone()[0]  # type: ignore[index]
        finally:
            _pg_ctl(pgdata, "stop")  # the restarted server is not the one embedded_postgres knows
    rates = [len(d) / s.wall for d, s in zip(days, spent, strict=True)]
    return {
        "settings": shown,
        "database_mb": round(size_b / 1e6),
        "events_per_s_by_day": [round(r) for r in rates],
        "first_10_days_per_s": _rate(days[:10], spent[:10]),
        "last_10_days_per_s": _rate(days[-10:], spent[-10:]),
        "all_days_per_s": _rate(days, spent),
    }


def _rate(days: list[Any], spent: list[Any]) -> int:
    return round(sum(len(d) for d in days) / sum(s.wall for s in spent))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("settings", nargs="+", type=json.loads, help="JSON objects")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--size", type=int, default=Settings().batch_max_records)
    args = parser.parse_args()
    days = simulated(args.scale, args.days)
    for settings in args.settings:
        print(json.dumps(one(days, settings, args.size)), flush=True)


if __name__ == "__main__":
    main()

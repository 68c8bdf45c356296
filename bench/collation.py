"""Bench: what a locale collation costs the keys this schema sorts and indexes.

    ./run python bench/collation.py [--rows 500000] [--rounds 3]

On a throw-away embedded PostgreSQL: ``--rows`` keys shaped like the product's (source,
event id, commune), sorted by (source, event id) and inserted in random order into a
primary key, under ``C`` (what the product's databases use, README) and under ``C.UTF-8``
(a libc locale, what a server made with the machine's locale gets), alternated; the first
round warms the caches and is left out of the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg

from ioc.embedded import embedded_postgres

COLLATIONS = {"C": '"C"', "C.UTF-8": "libc_c_utf8"}


def _keys(conn: psycopg.Connection, rows: int) -> None:
    conn.execute(
        "CREATE TABLE k AS SELECT 'src-' || lpad((i %% 1036)::text, 5, '0') AS source, "
        "md5(i::text) AS event_id FROM generate_series(1, %s) i",
        (rows,),
    )
    conn.execute("ANALYZE k")
    conn.execute("CREATE COLLATION libc_c_utf8 (provider = libc, locale = 'C.UTF-8')")


def _round(conn: psycopg.Connection, collation: str) -> tuple[float, float]:
    """Seconds to sort the keys, and to insert them in random order into a primary key."""
    started = time.perf_counter()
    conn.execute(
        f"SELECT count(*) FROM (SELECT * FROM k ORDER BY source COLLATE {collation}, "
        f"event_id COLLATE {collation} OFFSET 0) s"
    )
    sort = time.perf_counter() - started
    conn.execute("DROP TABLE IF EXISTS ix")
    conn.execute(
        f"CREATE TABLE ix (source text COLLATE {collation}, event_id text COLLATE {collation}, "
        "PRIMARY KEY (source, event_id))"
    )
    started = time.perf_counter()
    conn.execute("INSERT INTO ix SELECT source, event_id FROM k ORDER BY random()")
    return sort, time.perf_counter() - started


def main(rows: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, embedded_postgres(Path(tmp), "bench") as url:
        dsn = url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(dsn, autocommit=True) as conn:
            _keys(conn, rows)
            spent: dict[str, list[tuple[float, float]]] = {name: [] for name in COLLATIONS}
            for n in range(rounds):
                for name, collation in COLLATIONS.items():
                    sort, insert = _round(conn, collation)
                    print(
                        f"round {n + 1} {name:8} sort {sort * 1e3:8.1f} ms  "
                        f"insert {insert * 1e3:8.1f} ms"
                    )
                    spent[name].append((sort, insert))
    warm = slice(1, None) if rounds > 1 else slice(None)
    for i, what in enumerate(("sort", "insert into a primary key")):
        locale = sum(s[i] for s in spent["C.UTF-8"][warm])
        byte = sum(s[i] for s in spent["C"][warm])
        print(f"{what}: C.UTF-8 / C = {locale / byte:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    main(args.rows, args.rounds)

"""All SQL of one ingest batch: new events, roll-up deltas, lifecycle merges, freshness, rejects.

Roll-up, lifecycle and freshness deltas travel as sets (binary ``COPY`` into a staging
table, one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` per table), each roll-up into every
tier :mod:`models.tables.tiers` declares for it. Every function runs inside the caller's
transaction (the batch is the unit of work) and touches rows in key order, so concurrent
workers lock in one order and cannot deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Dialect,
    String,
    Table,
    and_,
    bindparam,
    case,
    column,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import (
    table as sql_table,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import TableClause

from ingest.spec import EventTable, Lifecycle, Rollup, Row, table_of
from models.clock import LOCAL
from models.events import KEPT_ATTRIBUTES, Event
from models.notify import CHANNEL, ChangeNotice
from models.tables import (
    HOUR_MASK,
    EventKey,
    Grain,
    IngestReject,
    SourceFreshness,
    keeps_hour_mask,
    tiers_of,
)


async def insert_events(conn: AsyncConnection, spec: EventTable, rows: list[Row]) -> list[Row]:
    """Insert the rows whose ``(source, event_id)`` is new; return only those (what the
    roll-ups may count).

    Binary ``COPY`` into a per-session staging table, then one statement: the keys go into
    ``event_key`` (``ON CONFLICT DO NOTHING RETURNING``, in key order so concurrent workers
    lock alike) and only the staged rows whose key came back are inserted into the event
    table. The same event resent with another ``time`` is therefore a duplicate, as
    CloudEvents has it, though the event table is partitioned by time. Within the batch
    the first of several rows with one key wins. ``COPY`` gives 4–10× the throughput of a
    multi-row ``INSERT`` (``bench/ingest_insert_vs_copy.py``).
    """
    rows = first_of_each_key(rows)
    if not rows:
        return []
    table = spec.table
    unknown = rows[0].keys() - table.c.keys()
    if unknown:  # a contract grew without a migration: refuse rather than drop data
        raise LookupError(f"{table.name} has no column for {sorted(unknown)}")
    columns = [c for c in table.c if c.name in rows[0]]
    names = ", ".join(f'"{c.name}"' for c in columns)
    staging = f"staging_{table.name}"
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection
    async with pg.cursor() as cur:
        await cur.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" '
            f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
        )
        async with cur.copy(f'COPY "{staging}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types([_pg_type(c, conn.dialect) for c in columns])
            for row in rows:
                await copy.write_row([row[c.name] for c in columns])
    staged = sql_table(staging, *(column(c.name) for c in columns))
    keys = table_of(EventKey)
    new_keys = (
        insert(keys)
        .from_select(
            ["source", "event_id", "event_type", "occurred_at"],
            select(
                staged.c.source,
                staged.c.event_id,
                literal(spec.event_type.type, String),
                staged.c.occurred_at,
            ).order_by(staged.c.source, staged.c.event_id),
        )
        .on_conflict_do_nothing()
        .returning(keys.c.source, keys.c.event_id)
        .cte("new_keys")
    )
    is_new = and_(staged.c.source == new_keys.c.source, staged.c.event_id == new_keys.c.event_id)
    stmt = (
        insert(table)
        .from_select([c.name for c in columns], select(*staged.c).join(new_keys, is_new))
        .on_conflict_do_nothing()
        .returning(*table.c)
    )
    result = await conn.execute(stmt)
    return [dict(r._mapping) for r in result.all()]


def first_of_each_key(rows: Iterable[Row]) -> list[Row]:
    """The rows with duplicates of an earlier row's ``(source, event_id)`` left out."""
    seen: set[tuple[Any, Any]] = set()
    kept = []
    for row in rows:
        key = (row["source"], row["event_id"])
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


async def keep_attributes(
    conn: AsyncConnection, rows: Sequence[Row], events: Iterable[Event]
) -> None:
    """Keep the optional CloudEvents attributes and extensions (``dataschema``,
    ``traceparent``, ``tracestate``, ``partitionkey``) of the newly stored events beside
    their key; events without any cost nothing."""
    extra = {
        (e.envelope.source, e.envelope.id): kept
        for e in events
        if (kept := e.envelope.kept_attributes())
    }
    if not extra:
        return
    keys = table_of(EventKey)
    updates = [
        {
            "k_source": r["source"],
            "k_event_id": r["event_id"],
            **{f"v_{name}": found.get(name) for name in KEPT_ATTRIBUTES},
        }
        for r in rows
        if (found := extra.get((r["source"], r["event_id"]))) is not None
    ]
    if updates:
        await conn.execute(
            update(keys)
            .where(keys.c.source == bindparam("k_source"))
            .where(keys.c.event_id == bindparam("k_event_id"))
            .values({name: bindparam(f"v_{name}") for name in KEPT_ATTRIBUTES}),
            updates,
        )


_PG_ALIASES = {"float": "float8"}


def _pg_type(col: Column[Any], dialect: Dialect) -> str:
    """The type name psycopg's binary COPY needs, from the column's DDL type."""
    name = col.type.compile(dialect=dialect).split("(")[0].lower()
    return _PG_ALIASES.get(name, name)


def rollup_deltas(rollup: Rollup, rows: Iterable[Row], grain: Grain = Grain.HOUR) -> list[Row]:
    """Sum measures per (bucket of ``grain``, commune, dims), plus the bucket's newest reading
    for gauges."""
    floor = grain.floor
    sums: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        key = (floor(row["occurred_at"]), row["commune_code"], *(row[d] for d in rollup.dims))
        acc = sums.get(key)
        if acc is None:
            acc = sums[key] = dict.fromkeys(rollup.measures, 0)
        for name, measure in rollup.measures.items():
            acc[name] += measure(row)
        if rollup.latest and ("latest_at" not in acc or row["occurred_at"] >= acc["latest_at"]):
            acc["latest_at"] = row["occurred_at"]
            acc.update({col: row[src] for col, src in rollup.latest.items()})
    return [
        {
            "bucket_start": k[0],
            "commune_code": k[1],
            **dict(zip(rollup.dims, k[2:], strict=True)),
            **m,
        }
        for k, m in sums.items()
    ]


def coarser_deltas(
    rollup: Rollup, deltas: Iterable[Row], grain: Grain, *, hour_mask: bool = False
) -> list[Row]:
    """Finer deltas summed into ``grain`` buckets (the newest reading kept for gauges):
    the same totals as :func:`rollup_deltas` of the rows at that grain, from far fewer rows.
    With ``hour_mask``, each also carries the :data:`~models.tables.HOUR_MASK` of the local
    hours its hourly deltas fell in."""
    floor = grain.floor
    sums: dict[tuple[Any, ...], Row] = {}
    for delta in deltas:
        key = (
            floor(delta["bucket_start"]),
            delta["commune_code"],
            *(delta[d] for d in rollup.dims),
        )
        acc = sums.get(key)
        bit = 1 << delta["bucket_start"].astimezone(LOCAL).hour if hour_mask else 0
        if acc is None:
            sums[key] = {**delta, "bucket_start": key[0]}
            if hour_mask:
                sums[key][HOUR_MASK] = bit
            continue
        if hour_mask:
            acc[HOUR_MASK] |= bit
        for name in rollup.measures:
            acc[name] += delta[name]
        if rollup.latest and delta["latest_at"] >= acc["latest_at"]:
            acc["latest_at"] = delta["latest_at"]
            acc.update({col: delta[col] for col in rollup.latest})
    return list(sums.values())


def _rollup_set(rollup: Rollup, table: Table, ex: Any) -> dict[str, Any]:
    """How a bucket row takes a delta: measures add up, a newer reading replaces the latest."""
    set_: dict[str, Any] = {m: table.c[m] + ex[m] for m in rollup.measures}
    if rollup.latest:
        newer = ex.latest_at >= table.c.latest_at
        set_.update({c: case((newer, ex[c]), else_=table.c[c]) for c in rollup.latest})
        set_["latest_at"] = func.greatest(table.c.latest_at, ex.latest_at)
    if keeps_hour_mask(table):
        set_[HOUR_MASK] = table.c[HOUR_MASK].op("|")(ex[HOUR_MASK])
    set_["updated_at"] = func.now()
    return set_


async def add_to_rollup(conn: AsyncConnection, rollup: Rollup, rows: Iterable[Row]) -> int:
    """Add the rows' deltas to their buckets in every tier of the roll-up (hour, then day);
    return how many hourly bucket rows were touched."""
    tiers = tiers_of(rollup.table).by_grain()
    deltas = rollup_deltas(rollup, rows, tiers[0][0])
    touched = len(deltas)
    for grain, table in tiers:
        if grain is not tiers[0][0]:
            deltas = coarser_deltas(rollup, deltas, grain, hour_mask=keeps_hour_mask(table))
        await upsert_staged(conn, table, deltas, partial(_rollup_set, rollup, table))
    return touched


def lifecycle_deltas(lifecycle: Lifecycle, rows: Iterable[Row]) -> list[Row]:
    """Fold each entity's new events (oldest first) into one state delta."""
    by_key: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_key[row[lifecycle.key]].append(row)
    deltas = []
    for key in sorted(by_key):
        events = sorted(by_key[key], key=lambda r: (r["occurred_at"], lifecycle.rank(r["stage"])))
        newest = events[-1]
        delta: Row = {
            lifecycle.key: key,
            "stage": newest["stage"],
            "stage_at": newest["occurred_at"],
        }
        delta.update({fact: newest[fact] for fact in lifecycle.facts})
        for stage in lifecycle.stages.values():
            if stage.at:
                delta[stage.at] = None
                delta.update(dict.fromkeys(stage.columns))
        for event in events:  # oldest first: each stage's newest event wins
            step = lifecycle.stages.get(event["stage"])
            if step and step.at:
                delta[step.at] = event["occurred_at"]
                delta.update({col: fn(event) for col, fn in step.columns.items()})
        for name, measure in lifecycle.additive.items():
            delta[name] = sum(measure(e) for e in events)
        deltas.append(delta)
    return deltas


def lifecycle_set(lifecycle: Lifecycle, ex: Any) -> dict[str, Any]:
    """How a state row takes a delta (``ex``): a late (older) event never rolls it back."""
    table = lifecycle.table
    tc = table.c

    def rank(column: ColumnElement[Any]) -> ColumnElement[int]:
        ranks = {stage: i for i, stage in enumerate(lifecycle.order)}
        return case(ranks, value=column, else_=len(ranks))

    newer = or_(
        ex.stage_at > tc.stage_at,
        and_(ex.stage_at == tc.stage_at, rank(ex.stage) >= rank(tc.stage)),
    )
    set_: dict[str, Any] = {
        col: case((newer, ex[col]), else_=tc[col])
        for col in ("stage", "stage_at", *lifecycle.facts)
    }
    for stage in lifecycle.stages.values():
        if not stage.at:
            continue
        stage_newer = and_(
            ex[stage.at].is_not(None), or_(tc[stage.at].is_(None), ex[stage.at] >= tc[stage.at])
        )
        for col in (stage.at, *stage.columns):
            set_[col] = case((stage_newer, ex[col]), else_=tc[col])
    set_.update({col: tc[col] + ex[col] for col in lifecycle.additive})
    set_["updated_at"] = func.now()
    return set_


async def merge_lifecycle(conn: AsyncConnection, lifecycle: Lifecycle, rows: Iterable[Row]) -> int:
    """Upsert state rows so that a late (older) event never rolls a newer state back."""
    deltas = lifecycle_deltas(lifecycle, rows)
    await upsert_staged(conn, lifecycle.table, deltas, lambda ex: lifecycle_set(lifecycle, ex))
    return len(deltas)


def freshness_deltas(rows: Iterable[Row]) -> list[Row]:
    """Per (source, event type): span of the new events' times and when they were stored."""
    acc: dict[tuple[str, str], Row] = {}
    for row in rows:
        key = (row["source"], row["event_type"])
        cur = acc.get(key)
        if cur is None:
            acc[key] = cur = {
                "source": key[0],
                "event_type": key[1],
                "commune_code": row["commune_code"],
                "first_event_at": row["occurred_at"],
                "last_event_at": row["occurred_at"],
                "last_ingested_at": row["ingested_at"],
                "events": 0,
            }
        cur["events"] += 1
        cur["first_event_at"] = min(cur["first_event_at"], row["occurred_at"])
        if row["occurred_at"] >= cur["last_event_at"]:
            cur["last_event_at"] = row["occurred_at"]
            cur["commune_code"] = row["commune_code"]
        cur["last_ingested_at"] = max(cur["last_ingested_at"], row["ingested_at"])
    for cur in acc.values():
        cur["lag_seconds"] = (cur["last_ingested_at"] - cur["last_event_at"]).total_seconds()
    return [acc[k] for k in sorted(acc)]


def _freshness_set(ex: Any) -> dict[str, Any]:
    tc = table_of(SourceFreshness).c
    last_event = func.greatest(tc.last_event_at, ex.last_event_at)
    return {
        "first_event_at": func.least(tc.first_event_at, ex.first_event_at),
        "last_event_at": last_event,
        "commune_code": case(
            (ex.last_event_at >= tc.last_event_at, ex.commune_code), else_=tc.commune_code
        ),
        "last_ingested_at": func.greatest(tc.last_ingested_at, ex.last_ingested_at),
        "lag_seconds": func.extract("epoch", ex.last_ingested_at - last_event),
        "events": tc.events + ex.events,
    }


async def update_freshness(conn: AsyncConnection, rows: Iterable[Row]) -> None:
    await upsert_staged(conn, table_of(SourceFreshness), freshness_deltas(rows), _freshness_set)


async def upsert_staged(
    conn: AsyncConnection,
    table: Table,
    deltas: list[Row],
    set_of: Callable[[Any], dict[str, Any]],
) -> None:
    """Upsert ``deltas`` (one per key) into ``table`` as one set: binary ``COPY`` into a
    per-session staging table, then one ``INSERT … SELECT … ON CONFLICT DO UPDATE SET
    set_of(excluded)`` that also empties the staging table.

    Rows go in key order, so concurrent workers lock them in one order and cannot deadlock.
    """
    if not deltas:
        return
    columns = [c for c in table.c if c.name in deltas[0]]
    staging = await _staged(conn, table, columns, deltas)
    key = [c.name for c in table.primary_key]
    moved = delete(staging).returning(*staging.c).cte("moved")
    rows = select(*moved.c).order_by(*(moved.c[k] for k in key))
    stmt = insert(table).from_select([c.name for c in columns], rows).add_cte(moved)
    await conn.execute(stmt.on_conflict_do_update(index_elements=key, set_=set_of(stmt.excluded)))


_INTEGER_TYPES = frozenset({"bigint", "integer", "smallint"})


async def _staged(
    conn: AsyncConnection, table: Table, columns: list[Column[Any]], rows: list[Row]
) -> TableClause:
    """``rows`` copied (binary ``COPY``) into the session's staging table for ``table``."""
    name = f"staging_{table.name}"
    types = [_pg_type(c, conn.dialect) for c in columns]
    # Measures may come as floats (or bools) into integer columns: round them as
    # PostgreSQL's assignment cast would.
    whole = [t in _INTEGER_TYPES for t in types]
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection
    async with pg.cursor() as cur:
        await cur.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{name}" '
            f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
        )
        names = ", ".join(f'"{c.name}"' for c in columns)
        async with cur.copy(f'COPY "{name}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types(types)
            for row in rows:
                await copy.write_row(
                    [
                        _whole(row[c.name]) if w else row[c.name]
                        for c, w in zip(columns, whole, strict=True)
                    ]
                )
    return sql_table(name, *(column(c.name) for c in columns))


def _whole(value: Any) -> Any:
    return round(value) if isinstance(value, float) else value


async def insert_rejects(conn: AsyncConnection, rejects: Sequence[Row]) -> None:
    """Record rejects; a redelivered message (same place, same bytes) is recorded once."""
    if rejects:
        await conn.execute(insert(IngestReject).on_conflict_do_nothing(), list(rejects))


async def notify(conn: AsyncConnection, notice: ChangeNotice) -> None:
    """Queue the change notice; PostgreSQL delivers it only if the transaction commits."""
    await conn.execute(select(func.pg_notify(CHANNEL, notice.model_dump_json())))

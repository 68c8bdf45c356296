"""The SQL of one ingest batch besides its roll-ups: new events, lifecycle merges,
freshness, rejects, the change notice.

Deltas travel as sets (binary ``COPY`` into a staging table, :mod:`ingest.staging`, then one
``INSERT … SELECT … ON CONFLICT DO UPDATE`` per table); the roll-ups' tiers are written by
:mod:`ingest.store_rollups`. Every function runs inside the caller's transaction (the batch
is the unit of work) and touches rows in key order, so concurrent workers lock in one order
and cannot deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
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

from ingest.spec import EventTable, Lifecycle, Row, table_of
from ingest.staging import (
    Earliest,
    Statement,
    copy_staged,
    create_staging,
    create_temp,
    pg_type,
    run,
    staging_name,
    text_of,
)
from ingest.store_lifecycle import (
    KEYS,
    MOMENTS,
    moments_ddl,
    put_back,
    take_off_sql,
)
from models.events import KEPT_ATTRIBUTES, Event
from models.notify import CHANNEL, ChangeNotice
from models.tables import (
    EventKey,
    IngestReject,
    SourceFreshness,
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
    staging = staging_name(table)
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection
    async with pg.cursor() as cur:
        await create_staging(cur, table)
        async with cur.copy(f'COPY "{staging}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types([pg_type(c, conn.dialect) for c in columns])
            for row in rows:
                await copy.write_row([row[c.name] for c in columns])
    cache_key = (table.name, *(c.name for c in columns))
    if cache_key not in _INSERT_SQL:
        _INSERT_SQL[cache_key] = text_of(_insert_new(spec, staging, columns), conn.dialect)
    async with pg.cursor() as cur:
        await cur.execute(_INSERT_SQL[cache_key])
        stored = {(source, event_id): at for source, event_id, at in await cur.fetchall()}
    # The rows as copied, with the one column the store filled in: what was stored.
    return [
        {**row, "ingested_at": at}
        for row in rows
        if (at := stored.get((row["source"], row["event_id"]))) is not None
    ]


_INSERT_SQL: dict[tuple[str, ...], str] = {}


def _insert_new(spec: EventTable, staging: str, columns: list[Column[Any]]) -> Any:
    """The staged rows whose key is new into ``event_key`` and the event table, returning
    the stored rows' keys and when they were stored."""
    table = spec.table
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
    return (
        insert(table)
        .from_select([c.name for c in columns], select(*staged.c).join(new_keys, is_new))
        .on_conflict_do_nothing()
        .returning(table.c.source, table.c.event_id, table.c.ingested_at)
    )


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
    """Upsert state rows so that a late (older) event never rolls a newer state back, and
    move the changed entities' moments between the days of their running totals
    (:func:`stage_lifecycle`, then its statements run at once); return how many entities
    changed."""
    changed = 0
    for sql, params in await stage_lifecycle(conn, lifecycle, rows):
        if params is not None:
            changed = len(params[KEYS])
        await run(conn, sql, params)
    return changed


async def stage_lifecycle(
    conn: AsyncConnection, lifecycle: Lifecycle, rows: Iterable[Row]
) -> list[Statement]:
    """Copy the entities' state deltas into the state table's staging table; return the
    statements that merge them (none without deltas), for the caller to run in turn later
    in the same transaction: the first locks the changed entities' state rows and stages
    their old moments (:mod:`ingest.store_lifecycle`), the second upserts the state rows so
    that a late (older) event never rolls a newer state back, nets the old moments against
    the new ones and writes only what changed to the units' running totals; each returns
    the entities' earliest moment (:class:`~ingest.staging.Earliest`), before and after, for
    the change log. Returned rather than run because the units' rows are shared with other
    workers (the writer runs them last, just before the commit)."""
    deltas = lifecycle_deltas(lifecycle, rows)
    if not deltas:
        return []
    table = lifecycle.table
    columns = [c for c in table.c if c.name in deltas[0]]
    await copy_staged(conn, table, columns, deltas)
    cache_key = (table.name, *(c.name for c in columns))
    if cache_key not in _LIFECYCLE_SQL:
        staging = staging_name(table)
        take_off = take_off_sql(table, lifecycle.key, conn.dialect)
        merge = _staged_upsert(table, staging, columns, lambda ex: lifecycle_set(lifecycle, ex))
        _LIFECYCLE_SQL[cache_key] = (take_off, text_of(put_back(table, merge), conn.dialect))
    take_off, merge = _LIFECYCLE_SQL[cache_key]
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection
    async with pg.cursor() as cur:
        await create_temp(cur, MOMENTS.name, moments_ddl())
    # Each returns the entities' earliest moment, before their rows change and after: the
    # change log's.
    return [Earliest(take_off, {KEYS: [d[lifecycle.key] for d in deltas]}), Earliest(merge, None)]


_LIFECYCLE_SQL: dict[tuple[str, ...], tuple[str, str]] = {}


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
    set_of(excluded)`` that also empties the staging table (built once per table and
    column set, kept as SQL text).

    Rows go in key order, so concurrent workers lock them in one order and cannot deadlock.
    """
    if not deltas:
        return
    columns = [c for c in table.c if c.name in deltas[0]]
    await copy_staged(conn, table, columns, deltas)
    cache_key = (table.name, *(c.name for c in columns))
    if cache_key not in _UPSERT_SQL:
        stmt = _staged_upsert(table, staging_name(table), columns, set_of)
        _UPSERT_SQL[cache_key] = text_of(stmt, conn.dialect)
    await run(conn, _UPSERT_SQL[cache_key])


def _staged_upsert(
    table: Table, staging: str, columns: list[Column[Any]], set_of: Callable[[Any], dict[str, Any]]
) -> Any:
    """``INSERT … SELECT`` of the staged rows (emptying the staging table), in key order,
    ``ON CONFLICT DO UPDATE SET set_of(excluded)``."""
    staged = sql_table(staging, *(column(c.name, c.type) for c in columns))
    key = [c.name for c in table.primary_key]
    moved = delete(staged).returning(*staged.c).cte("moved")
    rows = select(*moved.c).order_by(*(moved.c[k] for k in key))
    stmt = insert(table).from_select([c.name for c in columns], rows).add_cte(moved)
    return stmt.on_conflict_do_update(index_elements=key, set_=set_of(stmt.excluded))


_UPSERT_SQL: dict[tuple[str, ...], str] = {}


async def insert_rejects(conn: AsyncConnection, rejects: Sequence[Row]) -> None:
    """Record rejects; a redelivered message (same place, same bytes) is recorded once."""
    if rejects:
        await conn.execute(insert(IngestReject).on_conflict_do_nothing(), list(rejects))


async def notify(conn: AsyncConnection, notice: ChangeNotice) -> None:
    """Queue the change notice; PostgreSQL delivers it only if the transaction commits."""
    await conn.execute(select(func.pg_notify(CHANNEL, notice.model_dump_json())))

"""Write one consumed batch: new events, what derives from them, rejects.

Events are inserted with ``ON CONFLICT DO NOTHING ... RETURNING``; only the rows that really
came back feed the roll-ups, lifecycle states and source freshness, in the same transaction.
A redelivered or replayed event therefore changes nothing, and a late one adds to the hour
it happened in. The change notice is queued in that transaction, so it is sent on commit,
and the transaction's change-log row (``models.tables.changes``) says the earliest moment
its rows count at, so the API keeps its answers about earlier periods.

No single message can stop ingest: what fails validation is a reject, and when the store
(or deriving rows) fails on data that passed it, the batch is split in halves, each half
written on its own, until the one event at fault is found and recorded as a reject
(``store_refused``) while every other event is stored. Only transient failures (database
or broker unreachable) propagate, for the consumer to wait out.
"""

from __future__ import annotations

import contextlib
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ingest import store, store_rollups
from ingest.deadletter import KEEP_BYTES, DeadLetterSink, RawMessage
from ingest.maintenance import lock_partitions
from ingest.retry import is_transient
from ingest.spec import EventTable, Row, table_of
from ingest.staging import Earliest, Statement, make_staging, run, staging_ddl, staging_name
from ingest.store_lifecycle import MOMENTS, moments_ddl
from ingest.tables import EVENT_TABLES, SOURCE_HOURLY
from ingest.validation import Validator
from models.clock import floor_hour
from models.events import Event, EventRejected, RejectReason, structured_from_kafka
from models.notify import MAX_COMMUNES, ChangeNotice
from models.partitions import ensure_month_partitions, is_partitioned, month_start
from models.tables import SourceFreshness, tiers_of
from models.tables.changes import NOTHING_READ, log_change

__all__ = ["BatchResult", "RawMessage", "Writer"]

log = structlog.get_logger("ingest")

Reject = tuple[RawMessage, EventRejected]
Valid = tuple[RawMessage, Event]


@dataclass
class BatchResult:
    consumed: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    inserted_by_table: dict[str, int] = field(default_factory=dict)
    duplicates_by_table: dict[str, int] = field(default_factory=dict)
    notice: ChangeNotice | None = None

    def add_reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def add_stored(self, part: BatchResult) -> None:
        """Fold in what one committed transaction stored."""
        for name, n in part.inserted_by_table.items():
            self.inserted_by_table[name] = self.inserted_by_table.get(name, 0) + n
        for name, n in part.duplicates_by_table.items():
            self.duplicates_by_table[name] = self.duplicates_by_table.get(name, 0) + n
        self.notice = merge_notices(self.notice, part.notice)
        self.inserted = sum(self.inserted_by_table.values())
        self.duplicates = sum(self.duplicates_by_table.values())


class Writer:
    """Turns raw messages into rows; remembers which partitions exist between batches."""

    def __init__(
        self,
        engine: AsyncEngine,
        validator: Validator | None = None,
        tables: Mapping[str, EventTable] | None = None,
    ) -> None:
        self._engine = engine
        self._validator = validator or Validator()
        self._tables = tables or EVENT_TABLES
        self._months: dict[str, set[datetime]] = defaultdict(set)
        self._partitioned: dict[str, bool] = {}
        self._staging = staging_ddls(self._tables.values())

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def forget_partitions(self) -> None:
        """Partitions were dropped: check again before the next insert into each month."""
        self._months.clear()

    async def write(
        self, messages: Sequence[RawMessage], dead_letters: DeadLetterSink | None = None
    ) -> BatchResult:
        with collector_paused():
            return await self._write(messages, dead_letters)

    async def _write(
        self, messages: Sequence[RawMessage], dead_letters: DeadLetterSink | None
    ) -> BatchResult:
        result = BatchResult(consumed=len(messages))
        valid, rejects = self._validate(messages)
        if rejects and dead_letters is not None:
            await dead_letters.publish(rejects)
        try:  # the usual case: the whole batch, rejects included, in one transaction
            result.add_stored(await self._store(valid, rejects))
        except Exception as exc:
            if is_transient(exc) or not valid:
                raise
            log.warning("batch refused by the store, isolating the event at fault", error=repr(exc))
            refused = await self._isolate(valid, result)
            if refused and dead_letters is not None:
                await dead_letters.publish(refused)
            rejects += refused
            result.add_stored(await self._store([], rejects))
        for _, why in rejects:
            result.add_reject(str(why.reason))
        return result

    def _validate(self, messages: Sequence[RawMessage]) -> tuple[list[Valid], list[Reject]]:
        """The batch validated as one (:meth:`Validator.parse_many`), in message order."""
        parsed: list[Event | EventRejected | None] = []
        raws: list[bytes] = []
        for msg in messages:
            try:
                raws.append(structured_from_kafka(msg.headers, msg.key, msg.value))
                parsed.append(None)
            except Exception as exc:
                parsed.append(_reject_of(exc))
        try:
            found = iter(self._validator.parse_many(raws))
        except Exception:  # a validation bug must not stop ingest: each message on its own
            found = iter(self._parse_alone(raw) for raw in raws)
        valid: list[Valid] = []
        rejects: list[Reject] = []
        for msg, early in zip(messages, parsed, strict=True):
            outcome = early if early is not None else next(found)
            if isinstance(outcome, EventRejected):
                rejects.append((msg, outcome))
            else:
                valid.append((msg, outcome))
        return valid, rejects

    def _parse_alone(self, raw: bytes) -> Event | EventRejected:
        try:
            return self._validator.parse(raw)
        except Exception as exc:
            return _reject_of(exc)

    async def _isolate(self, valid: list[Valid], result: BatchResult) -> list[Reject]:
        """Store ``valid`` in halves, recursively; return the events the store refused alone."""
        try:
            result.add_stored(await self._store(valid, []))
            return []
        except Exception as exc:
            if is_transient(exc):
                raise
            if len(valid) == 1:
                msg, event = valid[0]
                log.warning(
                    "event refused by the store",
                    event_id=str(event.envelope.id),
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                    error=repr(exc),
                )
                return [(msg, EventRejected(RejectReason.STORE_REFUSED, _describe(exc)))]
        mid = len(valid) // 2
        return await self._isolate(valid[:mid], result) + await self._isolate(valid[mid:], result)

    async def _store(self, valid: list[Valid], rejects: list[Reject]) -> BatchResult:
        """One transaction: new events, their roll-ups, states and freshness, the rejects."""
        part = BatchResult()
        by_type: dict[str, list[Event]] = defaultdict(list)
        for _, event in valid:
            by_type[event.event_type.type].append(event)
        event_rows = {name: _rows(self._tables[name], events) for name, events in by_type.items()}
        for type_name, rows in event_rows.items():
            await self._ensure_partitions(self._tables[type_name], rows)
        async with self._engine.connect() as conn:
            await make_staging(conn, self._staging)
            async with conn.begin():
                return await self._store_in(conn, by_type, event_rows, rejects, part)

    async def _store_in(
        self,
        conn: AsyncConnection,
        by_type: dict[str, list[Event]],
        event_rows: dict[str, list[Row]],
        rejects: list[Reject],
        part: BatchResult,
    ) -> BatchResult:
        """The batch's statements, in the caller's transaction on ``conn``."""
        changed: list[str] = []
        new_rows: list[Row] = []
        shared: list[Statement] = []
        for type_name in sorted(by_type):  # one table order for every worker
            spec, events = self._tables[type_name], by_type[type_name]
            rows = await store.insert_events(conn, spec, event_rows[type_name])
            await store.keep_attributes(conn, rows, events)
            name = spec.table.name
            part.inserted_by_table[name] = len(rows)
            part.duplicates_by_table[name] = len(events) - len(rows)
            if not rows:
                continue
            for rollup in spec.rollups:
                shared += await store_rollups.stage_rollup(conn, rollup, rows)
                changed.append(rollup.table.name)
            if spec.lifecycle:
                shared += await store.stage_lifecycle(conn, spec.lifecycle, rows)
                changed.append(spec.lifecycle.table.name)
            for row in rows:  # the stored rows are the batch's own: completed in place
                row["event_type"] = type_name
            new_rows.extend(rows)
        if new_rows:  # rows of the batch's own sources: no other worker writes them
            await store_rollups.add_to_rollup(conn, SOURCE_HOURLY, new_rows)
            await store.update_freshness(conn, new_rows)
            changed += [SOURCE_HOURLY.table.name, SourceFreshness.__tablename__]
            part.notice = change_notice(changed, new_rows)
            await store.notify(conn, part.notice)
        await store.insert_rejects(conn, [reject_row(m, e) for m, e in rejects])
        # Last, just before the commit: the statements whose rows other workers' sources
        # share (a commune's and a province's day rows, the units' lifecycle totals), in
        # one order for every worker. Their row locks are then held while PostgreSQL runs
        # them back to back, not while this batch's events are inserted and its deltas
        # summed in Python: a second worker waits for that much, not for a whole batch.
        since = min((r["occurred_at"] for r in new_rows), default=None)
        for statement in shared:
            found = await run(conn, *statement)
            if isinstance(statement, Earliest) and found is not None:
                since = found if since is None else min(since, found)
        # What the commit may change, in the commit (``models.tables.changes``): nothing
        # before the batch's earliest event time or moment; rejects alone, nothing read.
        await log_change(conn, NOTHING_READ if since is None else since)
        return part

    async def _ensure_partitions(self, spec: EventTable, rows: list[Row]) -> None:
        """Create missing monthly partitions in a transaction of their own (DDL takes locks
        that should not be held for the whole batch). Validation keeps event times inside
        the accepted window, so partitions are only ever made inside it."""
        name = spec.table.name
        months = {month_start(r["occurred_at"]) for r in rows} - self._months[name]
        if not months:
            return
        async with self._engine.begin() as conn:
            if name not in self._partitioned:
                self._partitioned[name] = await is_partitioned(conn, name)
            if self._partitioned[name]:
                await lock_partitions(conn, name)
                if await ensure_month_partitions(conn, name, months):
                    # An empty partition changes no answer (models.tables.changes).
                    await log_change(conn)
        self._months[name] |= months


def staging_ddls(specs: Iterable[EventTable]) -> dict[str, str]:
    """Every staging table a batch of these streams may copy into: name → statement."""
    tables = [SOURCE_HOURLY.table, table_of(SourceFreshness)]
    ddls = {}
    for spec in specs:
        tables += [spec.table, *(tiers_of(r.table).hour for r in spec.rollups)]
        if spec.lifecycle:
            tables.append(spec.lifecycle.table)
            ddls[MOMENTS.name] = moments_ddl()
    for table in tables:
        ddls[staging_name(table)] = staging_ddl(table)
    return ddls


def _rows(spec: EventTable, events: list[Event]) -> list[Row]:
    """The events' rows, each event time as the same instant in UTC: an event's own offset
    (a ``TzInfo`` of the validator's) costs a method call in every comparison, hash and
    bucket computed from it, a UTC time none; what is stored is the same instant."""
    rows = [spec.to_row(e) for e in events]
    for row in rows:
        row["occurred_at"] = row["occurred_at"].astimezone(UTC)
    return rows


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a batch is written. A batch makes tens of
    thousands of objects (envelopes, payloads, rows) that live until it ends and are then
    freed by reference counting; the collector would traverse them again and again as they
    pile up (about half the validation's time, measured). It runs after the batch instead,
    on what survived it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _reject_of(exc: Exception) -> EventRejected:
    """Why a message that failed validation is refused (a validation bug: ``schema``)."""
    if isinstance(exc, EventRejected):
        return exc
    return EventRejected(RejectReason.SCHEMA, _describe(exc))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def change_notice(changed: list[str], rows: list[Row]) -> ChangeNotice:
    """What changed, kept well under PostgreSQL's 8,000-byte payload limit."""
    communes = sorted({r["commune_code"] for r in rows})
    times = [r["occurred_at"] for r in rows]
    return ChangeNotice(
        rollups=sorted(set(changed)),
        communes=communes if len(communes) <= MAX_COMMUNES else [],
        first_bucket=floor_hour(min(times)),
        last_bucket=floor_hour(max(times)),
        committed_at=datetime.now(UTC),
    )


def merge_notices(a: ChangeNotice | None, b: ChangeNotice | None) -> ChangeNotice | None:
    """One notice covering two (a batch stored in parts): what ``result.notice`` reports."""
    if a is None or b is None:
        return a or b
    communes = sorted(set(a.communes) | set(b.communes))
    return ChangeNotice(
        rollups=sorted(set(a.rollups) | set(b.rollups)),
        communes=[]
        if not a.communes or not b.communes or len(communes) > MAX_COMMUNES
        else communes,
        first_bucket=min(a.first_bucket, b.first_bucket),
        last_bucket=max(a.last_bucket, b.last_bucket),
        committed_at=max(a.committed_at, b.committed_at),
    )


def _truncation(msg: RawMessage) -> str:
    if not msg.truncated:
        return ""
    return f" (message of {len(msg.value)} bytes; first {KEEP_BYTES} kept)"


def reject_row(msg: RawMessage, exc: EventRejected) -> Row:
    return {
        "topic": msg.topic,
        "partition": msg.partition,
        "offset": msg.offset,
        "key": msg.key,
        "raw": msg.kept,
        "reason": str(exc.reason),
        "detail": (exc.detail[:2000] + _truncation(msg)).replace("\x00", "\\u0000"),
    }

"""Write one consumed batch in one transaction: new events, what derives from them, rejects.

Events are inserted with ``ON CONFLICT DO NOTHING ... RETURNING``; only the rows that really
came back feed the roll-ups, lifecycle states and source freshness, in the same transaction.
A redelivered or replayed event therefore changes nothing, and a late one adds to the hour
it happened in. The change notice is queued in that transaction, so it is sent on commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from ingest import store
from ingest.deadletter import DeadLetterSink, RawMessage
from ingest.spec import EventTable, Row
from ingest.tables import EVENT_TABLES, SOURCE_HOURLY
from ingest.validation import Validator
from models.clock import floor_hour
from models.events import Event, EventRejected
from models.notify import MAX_COMMUNES, ChangeNotice
from models.partitions import ensure_month_partitions, is_partitioned, month_start
from models.tables import SourceFreshness

__all__ = ["BatchResult", "RawMessage", "Writer"]


@dataclass
class BatchResult:
    consumed: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    inserted_by_table: dict[str, int] = field(default_factory=dict)
    duplicates_by_table: dict[str, int] = field(default_factory=dict)
    notice: ChangeNotice | None = None


class Writer:
    """Turns raw messages into rows; remembers which partitions exist between batches."""

    def __init__(self, engine: AsyncEngine, validator: Validator | None = None) -> None:
        self._engine = engine
        self._validator = validator or Validator()
        self._months: dict[str, set[datetime]] = defaultdict(set)
        self._partitioned: dict[str, bool] = {}

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def forget_partitions(self) -> None:
        """Partitions were dropped: check again before the next insert into each month."""
        self._months.clear()

    async def write(
        self, messages: Sequence[RawMessage], dead_letters: DeadLetterSink | None = None
    ) -> BatchResult:
        result = BatchResult(consumed=len(messages))
        by_type: dict[str, list[Event]] = defaultdict(list)
        rejects: list[tuple[RawMessage, EventRejected]] = []
        for msg in messages:
            try:
                event = self._validator.parse(msg.value)
            except EventRejected as exc:
                rejects.append((msg, exc))
                result.rejected[exc.reason] = result.rejected.get(exc.reason, 0) + 1
                continue
            by_type[event.event_type.type].append(event)
        if rejects and dead_letters is not None:
            await dead_letters.publish(rejects)

        for type_name, events in by_type.items():
            await self._ensure_partitions(EVENT_TABLES[type_name], events)
        async with self._engine.begin() as conn:
            changed: list[str] = []
            new_rows: list[Row] = []
            for type_name in sorted(by_type):  # one table order for every worker
                spec, events = EVENT_TABLES[type_name], by_type[type_name]
                rows = await store.insert_events(conn, spec, [spec.to_row(e) for e in events])
                name = spec.table.name
                result.inserted_by_table[name] = len(rows)
                result.duplicates_by_table[name] = len(events) - len(rows)
                if not rows:
                    continue
                for rollup in spec.rollups:
                    await store.add_to_rollup(conn, rollup, rows)
                    changed.append(rollup.table.name)
                if spec.lifecycle:
                    await store.merge_lifecycle(conn, spec.lifecycle, rows)
                    changed.append(spec.lifecycle.table.name)
                new_rows.extend({**r, "event_type": type_name} for r in rows)
            if new_rows:
                await store.add_to_rollup(conn, SOURCE_HOURLY, new_rows)
                await store.update_freshness(conn, new_rows)
                changed += [SOURCE_HOURLY.table.name, SourceFreshness.__tablename__]
                result.notice = change_notice(changed, new_rows)
                await store.notify(conn, result.notice)
            await store.insert_rejects(conn, [reject_row(m, e) for m, e in rejects])
        result.inserted = sum(result.inserted_by_table.values())
        result.duplicates = sum(result.duplicates_by_table.values())
        return result

    async def _ensure_partitions(self, spec: EventTable, events: list[Event]) -> None:
        """Create missing monthly partitions in a transaction of their own (DDL takes locks
        that should not be held for the whole batch)."""
        name = spec.table.name
        months = {month_start(e.envelope.time) for e in events} - self._months[name]
        if not months:
            return
        async with self._engine.begin() as conn:
            if name not in self._partitioned:
                self._partitioned[name] = await is_partitioned(conn, name)
            if self._partitioned[name]:
                await ensure_month_partitions(conn, name, months)
        self._months[name] |= months


def change_notice(changed: list[str], rows: list[Row]) -> ChangeNotice:
    """What changed, kept well under PostgreSQL's 8,000-byte payload limit."""
    communes = sorted({r["commune_code"] for r in rows})
    hours = [floor_hour(r["occurred_at"]) for r in rows]
    return ChangeNotice(
        rollups=sorted(set(changed)),
        communes=communes if len(communes) <= MAX_COMMUNES else [],
        first_bucket=min(hours),
        last_bucket=max(hours),
        committed_at=datetime.now(UTC),
    )


def reject_row(msg: RawMessage, exc: EventRejected) -> Row:
    return {
        "topic": msg.topic,
        "partition": msg.partition,
        "offset": msg.offset,
        "key": msg.key,
        "raw": msg.value,
        "reason": str(exc.reason),
        "detail": exc.detail[:2000],
    }

"""Write one consumed batch in one transaction: events, roll-ups of what was new, rejects.

Events are inserted with ``ON CONFLICT DO NOTHING ... RETURNING``; only the rows that really
came back feed the roll-ups. A redelivered or replayed event therefore changes nothing, and
a late one adds to the hour it happened in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ingest.tables import EVENT_TABLES, EventTable, Rollup, Row
from models.events import Event, EventRejected, RejectReason, parse_event
from models.partitions import ensure_month_partitions, is_partitioned, month_start
from models.tables import IngestReject
from models.units import commune_codes


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A message as it came off the broker, with where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass
class BatchResult:
    consumed: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


class Writer:
    """Turns raw messages into rows; holds what it learnt about partitions between batches."""

    def __init__(self, engine: AsyncEngine, known_communes: frozenset[str] | None = None) -> None:
        self._engine = engine
        self._communes = known_communes if known_communes is not None else commune_codes()
        self._months: dict[str, set[datetime]] = defaultdict(set)
        self._partitioned: dict[str, bool] = {}

    async def write(self, messages: Sequence[RawMessage]) -> BatchResult:
        result = BatchResult(consumed=len(messages))
        by_table: dict[str, list[Event]] = defaultdict(list)
        rejects: list[Row] = []
        for msg in messages:
            try:
                event = self._validate(msg.value)
            except EventRejected as exc:
                rejects.append(_reject_row(msg, exc))
                result.rejected[exc.reason] = result.rejected.get(exc.reason, 0) + 1
                continue
            by_table[event.event_type.type].append(event)

        for type_name, events in by_table.items():
            await self._ensure_partitions(EVENT_TABLES[type_name], events)
        async with self._engine.begin() as conn:
            for type_name, events in by_table.items():
                inserted = await insert_events(conn, EVENT_TABLES[type_name], events)
                result.inserted += inserted
                result.duplicates += len(events) - inserted
            if rejects:
                await conn.execute(insert(IngestReject), rejects)
        return result

    def _validate(self, raw: bytes) -> Event:
        event = parse_event(raw)
        if event.envelope.subject not in self._communes:
            raise EventRejected(
                RejectReason.UNKNOWN_UNIT, f"subject {event.envelope.subject!r} is not a commune"
            )
        return event

    async def _ensure_partitions(self, spec: EventTable, events: list[Event]) -> None:
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


async def insert_events(conn: AsyncConnection, spec: EventTable, events: list[Event]) -> int:
    """Insert new events and add them to the roll-ups; return how many were new."""
    rows = [spec.to_row(e) for e in events]
    stmt = insert(spec.table).on_conflict_do_nothing().returning(*spec.table.c)
    inserted = [dict(r._mapping) for r in (await conn.execute(stmt, rows)).all()] if rows else []
    for rollup in spec.rollups:
        await add_to_rollup(conn, rollup, inserted)
    return len(inserted)


def rollup_deltas(rollup: Rollup, rows: Iterable[Row]) -> list[Row]:
    """Sum measures per (hour, commune, dims); sorted so concurrent writers lock in one order."""
    sums: dict[tuple[object, ...], dict[str, int]] = {}
    for row in rows:
        hour = row["occurred_at"].astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        key = (hour, row["commune_code"], *(row[d] for d in rollup.dims))
        acc = sums.setdefault(key, dict.fromkeys(rollup.measures, 0))
        for name, measure in rollup.measures.items():
            acc[name] += measure(row)
    return [
        {
            "bucket_start": k[0],
            "commune_code": k[1],
            **dict(zip(rollup.dims, k[2:], strict=True)),
            **m,
        }
        for k, m in sorted(sums.items(), key=lambda item: tuple(map(str, item[0])))
    ]


async def add_to_rollup(conn: AsyncConnection, rollup: Rollup, rows: list[Row]) -> None:
    deltas = rollup_deltas(rollup, rows)
    if not deltas:
        return
    stmt = insert(rollup.table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["bucket_start", "commune_code", *rollup.dims],
        set_={
            **{m: rollup.table.c[m] + stmt.excluded[m] for m in rollup.measures},
            "updated_at": func.now(),
        },
    )
    await conn.execute(stmt, deltas)


def _reject_row(msg: RawMessage, exc: EventRejected) -> Row:
    return {
        "topic": msg.topic,
        "partition": msg.partition,
        "offset": msg.offset,
        "key": msg.key,
        "raw": msg.value,
        "reason": str(exc.reason),
        "detail": exc.detail[:2000],
    }

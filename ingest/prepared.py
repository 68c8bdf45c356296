"""A consumed batch made ready for its transaction before the transaction starts.

Validating a batch, turning its events into rows and summing their roll-up and lifecycle
deltas needs nothing from the database, so a worker does it for the next batch while
PostgreSQL writes the current one (:meth:`ingest.writer.Writer.prepare`): the two run on
different cores instead of in turn.

The deltas summed ahead assume every event of the batch is new. The store learns which
events really were (``INSERT … RETURNING``) and uses them only when that holds for the
stream, the usual case; when a duplicate or a replay is among them it sums the deltas of
the stored rows again, as it always did, so what is added never depends on the guess.
Deltas that read what only the store knows (the time an event was stored, for the
data-quality roll-up) are never summed ahead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from ingest import store, store_rollups
from ingest.deadletter import RawMessage
from ingest.spec import EventTable, Row
from models.events import Event, EventRejected
from models.tables import tiers_of

Reject = tuple[RawMessage, EventRejected]
Valid = tuple[RawMessage, Event]


@dataclass(frozen=True)
class Ahead:
    """One stream's deltas summed before the store, valid when all ``rows`` events are new."""

    rows: int
    rollups: tuple[list[tuple[Any, ...]], ...]
    lifecycle: list[Row] | None


@dataclass(frozen=True)
class Prepared:
    """A batch validated, its events as rows per event type, their deltas summed ahead."""

    messages: Sequence[RawMessage]
    valid: list[Valid]
    rejects: list[Reject]
    by_type: dict[str, list[Event]] = field(default_factory=dict)
    event_rows: dict[str, list[Row]] = field(default_factory=dict)
    ahead: dict[str, Ahead] = field(default_factory=dict)


def rows_by_type(
    tables: Mapping[str, EventTable], valid: list[Valid]
) -> tuple[dict[str, list[Event]], dict[str, list[Row]]]:
    """The valid events per event type, and their event table rows."""
    by_type: dict[str, list[Event]] = defaultdict(list)
    for _, event in valid:
        by_type[event.event_type.type].append(event)
    return by_type, {name: rows_of(tables[name], events) for name, events in by_type.items()}


def rows_of(spec: EventTable, events: list[Event]) -> list[Row]:
    """The events' rows, each event time as the same instant in UTC: an event's own offset
    (a ``TzInfo`` of the validator's) costs a method call in every comparison, hash and
    bucket computed from it, a UTC time none; what is stored is the same instant."""
    rows = [spec.to_row(e) for e in events]
    for row in rows:
        row["occurred_at"] = row["occurred_at"].astimezone(UTC)
    return rows


def sum_ahead(spec: EventTable, rows: list[Row]) -> Ahead | None:
    """The stream's roll-up and lifecycle deltas if every row is stored; None where a
    measure reads a column only the store fills in (it is then summed in the store)."""
    new = store.first_of_each_key(rows)
    try:
        rollups = tuple(
            store_rollups.rollup_deltas(r, new, tiers_of(r.table).by_grain()[0][0])
            for r in spec.rollups
        )
        lifecycle = store.lifecycle_deltas(spec.lifecycle, new) if spec.lifecycle else None
    except KeyError:
        return None
    return Ahead(len(new), rollups, lifecycle)


def ahead_for(prepared: Prepared | None, type_name: str, stored: int) -> Ahead | None:
    """The deltas summed ahead for the stream, if ``stored`` says every event was new."""
    ahead = prepared.ahead.get(type_name) if prepared else None
    return ahead if ahead is not None and ahead.rows == stored else None

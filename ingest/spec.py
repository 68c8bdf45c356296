"""What a stream is to the writer: an event table, additive roll-ups, maybe a lifecycle state.

The writer is generic over these specs; adding a stream is adding an :class:`EventTable`
in :mod:`ingest.streams`. Measures are plain functions of an inserted event row, so a spec
reads like the indicator definitions it serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table

from models.events import Event, EventType

Row = dict[str, Any]
Measure = Callable[[Row], float]


@dataclass(frozen=True)
class Rollup:
    """An hour × commune × ``dims`` table whose ``measures`` are summed from inserted rows.

    ``latest`` maps roll-up columns to row columns copied from the newest reading of the
    bucket (guarded by the roll-up's ``latest_at``): what a gauge's "current value" is.
    """

    table: Table
    dims: tuple[str, ...]
    measures: Mapping[str, Measure]
    latest: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """What one lifecycle step writes into the state row, whenever its event arrives.

    ``at`` is the state column holding that step's event time (``None``: the step has no
    columns of its own); ``columns`` map state columns to functions of the event row.
    """

    at: str | None = None
    columns: Mapping[str, Callable[[Row], object]] = field(default_factory=dict)


@dataclass(frozen=True)
class Lifecycle:
    """A current-state table per entity, merged from its events in event-time order.

    ``order`` ranks the stages, to break ties between events of the same instant. The
    newest event sets ``stage``/``stage_at`` and the ``facts``; each stage's own columns
    are set by that stage's newest event; ``additive`` columns sum over every new event.
    """

    table: Table
    key: str
    facts: tuple[str, ...]
    order: tuple[str, ...]
    stages: Mapping[str, Stage]
    additive: Mapping[str, Measure] = field(default_factory=dict)

    def rank(self, stage: str) -> int:
        return self.order.index(stage) if stage in self.order else len(self.order)


def envelope_row(event: Event) -> Row:
    """The event table row: envelope attributes plus every payload field, as named."""
    env = event.envelope
    return {
        "occurred_at": env.time,
        "event_id": env.id,
        "source": env.source,
        "commune_code": env.subject,
        **event.payload.model_dump(),
    }


@dataclass(frozen=True)
class EventTable:
    """One stream: where its events go and what is derived from them in the same transaction."""

    event_type: EventType
    table: Table
    rollups: tuple[Rollup, ...]
    lifecycle: Lifecycle | None = None
    to_row: Callable[[Event], Row] = envelope_row


def table_of(model: type[Any]) -> Table:
    """The core table of a mapped class, typed."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Small measure builders, so specs read as definitions.


def one(row: Row) -> float:
    return 1


def value(column: str) -> Measure:
    return lambda row: row[column] or 0


def square(column: str) -> Measure:
    return lambda row: (row[column] or 0) ** 2


def flag(column: str) -> Measure:
    """1 when the column is true (``None`` counts as false)."""
    return lambda row: 1 if row[column] else 0


def equals(column: str, expected: object) -> Measure:
    return lambda row: 1 if row[column] == expected else 0


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86_400

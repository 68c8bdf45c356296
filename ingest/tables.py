"""How each event type lands in the store: its event table, its row, its additive roll-ups.

Adding a stream is adding an :class:`EventTable` here; the writer is generic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from models.events import HEALTH_ENCOUNTER, Event, EventType
from models.payloads.health import HealthEncounter
from models.tables import HealthEncounterHourly, HealthEncounterRow

Row = dict[str, Any]


@dataclass(frozen=True)
class Rollup:
    """An hour × commune × ``dims`` table whose ``measures`` are summed from inserted rows."""

    table: Table
    dims: tuple[str, ...]
    measures: dict[str, Callable[[Row], int]]


@dataclass(frozen=True)
class EventTable:
    event_type: EventType
    table: Table
    to_row: Callable[[Event], Row]
    rollups: tuple[Rollup, ...]


def _health_row(event: Event) -> Row:
    payload = event.payload
    assert isinstance(payload, HealthEncounter)
    env = event.envelope
    return {
        "occurred_at": env.time,
        "event_id": env.id,
        "source": env.source,
        "commune_code": env.subject,
        **payload.model_dump(),
    }


HEALTH_ENCOUNTERS = EventTable(
    event_type=HEALTH_ENCOUNTER,
    table=HealthEncounterRow.__table__,  # type: ignore[arg-type]
    to_row=_health_row,
    rollups=(
        Rollup(
            table=HealthEncounterHourly.__table__,  # type: ignore[arg-type]
            dims=("encounter_class", "insured"),
            measures={
                "encounters": lambda r: 1,
                "wait_minutes_sum": lambda r: int(r["wait_minutes"]),
                "wait_minutes_sumsq": lambda r: int(r["wait_minutes"]) ** 2,
                "cost_vnd_sum": lambda r: int(r["cost_vnd"]),
            },
        ),
    ),
)

EVENT_TABLES: dict[str, EventTable] = {t.event_type.type: t for t in (HEALTH_ENCOUNTERS,)}

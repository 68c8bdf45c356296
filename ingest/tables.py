"""The registry of stream specs the writer serves: one :class:`EventTable` per event type.

Also the data-quality roll-up every stream feeds (``source_hourly``).
"""

from __future__ import annotations

from ingest.lifecycles import CITIZEN_REPORTS, PUBLIC_SERVICE_DOSSIERS
from ingest.spec import EventTable, Rollup, Row, table_of
from ingest.streams import (
    EDUCATION_ATTENDANCE,
    EDUCATION_REPORTS,
    HEALTH_BED_CENSUS,
    HEALTH_CLAIMS,
    HEALTH_ENCOUNTERS,
    TOURISM_ARRIVALS,
    TOURISM_FEEDBACK,
)
from models.events import REGISTRY
from models.registry import Registry
from models.tables import SourceHourly, tiers_of

TIMELY_SECONDS = 3600
"""An event is timely when it reached the store within this long of happening."""


def _lag_seconds(row: Row) -> float:
    lag: float = (row["ingested_at"] - row["occurred_at"]).total_seconds()
    return max(0.0, lag)


SOURCE_HOURLY = Rollup(
    table=table_of(SourceHourly),
    dims=("source", "event_type"),
    measures={
        "events": lambda r: 1,
        "within_1h": lambda r: 1 if _lag_seconds(r) <= TIMELY_SECONDS else 0,
        "lag_seconds_sum": _lag_seconds,
    },
)
"""Unique events per source and hour of event time: completeness and timeliness."""

EVENT_TABLES: Registry[EventTable] = Registry("stream")
"""Event type → its stream spec: what the writer stores and derives for it."""


def register_stream(spec: EventTable) -> EventTable:
    """Declare how a registered event type is stored: from here on the writer inserts its
    events, fills its roll-ups (every tier :data:`models.tables.TIERS` declares) and its
    lifecycle state, and indicators over those roll-ups know which sources feed them."""
    REGISTRY[spec.event_type.type]  # the event type comes first (KeyError names the known)
    for rollup in spec.rollups:
        tiers_of(rollup.table)  # every roll-up has its tiers declared
    return EVENT_TABLES.add(spec.event_type.type, spec)


def streams_feeding(table: str) -> list[str]:
    """Event types whose new events change ``table`` (a roll-up or a lifecycle state
    table, by name), in declaration order; every one for the data-quality roll-up."""
    if table == SOURCE_HOURLY.table.name:
        return list(EVENT_TABLES)
    return [
        type_name
        for type_name, spec in EVENT_TABLES.items()
        if table in {r.table.name for r in spec.rollups}
        or (spec.lifecycle is not None and spec.lifecycle.table.name == table)
    ]


for _spec in (
    HEALTH_ENCOUNTERS,
    HEALTH_BED_CENSUS,
    HEALTH_CLAIMS,
    EDUCATION_ATTENDANCE,
    EDUCATION_REPORTS,
    TOURISM_ARRIVALS,
    TOURISM_FEEDBACK,
    PUBLIC_SERVICE_DOSSIERS,
    CITIZEN_REPORTS,
):
    register_stream(_spec)
assert set(EVENT_TABLES) == set(REGISTRY), "every registered event type needs a spec"

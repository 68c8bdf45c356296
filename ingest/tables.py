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
from models.tables import SourceHourly

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

EVENT_TABLES: dict[str, EventTable] = {
    spec.event_type.type: spec
    for spec in (
        HEALTH_ENCOUNTERS,
        HEALTH_BED_CENSUS,
        HEALTH_CLAIMS,
        EDUCATION_ATTENDANCE,
        EDUCATION_REPORTS,
        TOURISM_ARRIVALS,
        TOURISM_FEEDBACK,
        PUBLIC_SERVICE_DOSSIERS,
        CITIZEN_REPORTS,
    )
}
assert set(EVENT_TABLES) == set(REGISTRY), "every registered event type needs a spec"

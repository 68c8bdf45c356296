"""Lifecycle entities counted per moment, administrative unit and local day: running totals
kept by ingest.

How many of a state table's entities were received, finished, fell due, fell due and were
finished (the later of the two), or were completed on each local day, in each unit of
either hierarchy (a commune's entities count in every unit the closure table
``admin_unit_closure`` says holds it, as the roll-ups' unit day tiers do). Ingest keeps the
counts in the batch's transaction: when a state row changes, its old moments are taken off
their days and its new ones added, so a day row always equals a count of the state table
through the closure. "Open at ``t``" is then received before ``t`` less finished before
``t``, and "completed in the period" a sum of completed days: a province's year is a few
hundred rows read by key, not every entity (``app.indicators.lifecycles``).

Completions are also counted per value of the state columns lifecycle indicators filter on
(:data:`KEPT_COLUMNS`: punctuality, rating, complaint), so "completed on time and not
disliked" is a sum of day rows too; the other moments leave those columns NULL.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, func

from models.tables.base import Base, Timestamp
from models.tables.citizen import CitizenReport
from models.tables.public_service import Dossier

KEPT_COLUMNS: dict[str, tuple[str, ...]] = {
    Dossier.__tablename__: ("on_time", "rating", "complaint"),
    CitizenReport.__tablename__: ("resolved_on_time", "rating"),
}
"""State table → the columns its completions are counted by: those the catalogue's lifecycle
metrics filter on or leave out by (``models.catalogue.check_metric`` refuses a filter on
another one; a test checks the catalogue uses each)."""

COMPLETED = "completed"
"""The moment counted per :data:`KEPT_COLUMNS` value: the entity's known completion."""


def _kept_columns() -> list[Column[object]]:
    """Each kept column once, typed as in its state table(s), nullable (a column one state
    table lacks, and every moment other than :data:`COMPLETED`, is NULL)."""
    states = {t.__tablename__: t.__table__ for t in (Dossier, CitizenReport)}
    out: dict[str, Column[object]] = {}
    for state, names in KEPT_COLUMNS.items():
        for name in names:
            out.setdefault(name, Column(name, states[state].c[name].type, nullable=True))
    return list(out.values())


KEY = ("state_table", "moment", "hierarchy", "unit_code", "bucket_start")
_KEPT = _kept_columns()
KEPT = tuple(c.name for c in _KEPT)
"""Every kept column of the table, in its order."""

LIFECYCLE_UNIT_DAILY = Table(
    "lifecycle_unit_daily",
    Base.metadata,
    Column("state_table", String(80), nullable=False),
    Column("moment", String(20), nullable=False),
    Column("hierarchy", String(4), nullable=False),
    Column("unit_code", String(8), nullable=False),
    Column("bucket_start", Timestamp, nullable=False),
    *_KEPT,
    Column("entities", BigInteger, nullable=False),
    Column("updated_at", Timestamp, nullable=False, server_default=func.now()),
    # The key: NULL kept columns are one value each (no primary key can hold a NULL), and
    # its leading columns are what a unit's year is read by.
    Index(
        "uq_lifecycle_unit_daily",
        *KEY,
        *KEPT,
        unique=True,
        postgresql_nulls_not_distinct=True,
    ),
    comment="Lifecycle entities per moment, administrative unit (every level, both "
    "hierarchies) and local (Asia/Ho_Chi_Minh) calendar day",
)
"""Entities of ``state_table`` whose ``moment`` fell on the local day ``bucket_start``
(Asia/Ho_Chi_Minh midnight) in a commune that ``unit_code`` of ``hierarchy`` holds.
Moments: ``received``, ``done`` (finished), ``due`` (deadline, after the citizen's
supplement time), ``due_or_done`` (the later of deadline and finish, for finished
entities) and ``completed`` (the completion step, per value of the kept columns)."""


def kept_columns(state_table: str) -> tuple[str, ...]:
    """The columns a state table's completions are counted by (none if not declared)."""
    return KEPT_COLUMNS.get(state_table, ())

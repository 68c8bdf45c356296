"""Roll-up tiers: every hourly roll-up and the coarser copies of it kept exact beside it.

A day tier has the hourly table's columns, keyed by the local calendar day
(Asia/Ho_Chi_Minh midnight, as an instant in ``bucket_start``) instead of the UTC hour.
Ingest adds the same new rows to every tier of a roll-up in the batch's transaction, so a
day row always equals its hours summed (and holds the day's newest reading where the
roll-up keeps one). Queries with a bucket of a day or longer read the day tier: a year is
365 rows per commune and dimension instead of 8,760.

A unit day tier sums the same day rows once more, per administrative unit: each commune's
day adds to every unit holding it in both hierarchies (the commune itself, its district and
the province in 2020; its 2025 commune and the province in 2025, as the closure table
``admin_unit_closure`` says), keyed by (``hierarchy``, ``unit_code``, local day, dims). It
keeps the additive measures only (no gauge readings: a unit has no one newest reading). A
province's year is then 365 rows per dimension, read by key, not every commune's day
through the closure; ingest keeps it in the same statement as the other tiers.

The source roll-up keeps, beside its day tier, a source day mask: one row per source and
local day with the :data:`HOUR_MASK` of the hours any of its rows fell in (all its event
types and communes together), which is what the reporting-slot tally reads; a hospital's
year is 365 rows, not one per patient commune and event type and day.

This registry is the one place that says which tiers exist; ingest, the queries and the
tests all read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Integer, String, Table

from models.clock import floor_hour, floor_local_day
from models.registry import Registry
from models.tables.citizen import CitizenReportHourly
from models.tables.core import SourceHourly
from models.tables.education import EducationAttendanceHourly, EducationReportHourly
from models.tables.health import (
    HealthBedCensusHourly,
    HealthClaimHourly,
    HealthEncounterDiagnosisHourly,
    HealthEncounterHourly,
)
from models.tables.public_service import DossierHourly
from models.tables.tourism import TourismArrivalHourly, TourismFeedbackHourly


class Grain(StrEnum):
    """How long one row of a tier covers."""

    HOUR = "hour"
    DAY = "day"

    @property
    def floor(self) -> Callable[[datetime], datetime]:
        """The ``bucket_start`` of the row an instant is counted in."""
        return floor_hour if self is Grain.HOUR else floor_local_day


HOUR_MASK = "hour_mask"
"""Column of a day tier that also keeps which local hours of the day had rows: bit ``h``
set when hour ``h`` (0–23, Asia/Ho_Chi_Minh) did. The source roll-up keeps one, so the
reporting slots a source filled over a year are read from 365 day rows, not 8,760 hours."""


@dataclass(frozen=True, slots=True)
class Tiers:
    """The tables of one roll-up, finest first; ``unit_day`` its per-unit day sums and
    ``source_day_mask`` its per-source day masks, where kept."""

    hour: Table
    day: Table
    unit_day: Table | None = None
    source_day_mask: Table | None = None

    def by_grain(self) -> tuple[tuple[Grain, Table], ...]:
        return ((Grain.HOUR, self.hour), (Grain.DAY, self.day))


def keeps_hour_mask(table: Table) -> bool:
    """Does this tier table keep a :data:`HOUR_MASK` of its day's hours?"""
    return HOUR_MASK in table.c


def _day_copy(source: Table, name: str, *, hour_mask: bool = False) -> Table:
    """The hourly table's columns and key under another name, on the same metadata: rows
    per local day (and, with ``hour_mask``, the mask of the hours that had rows)."""
    # A source's masks over a year are read by source: an index-only scan of its rows.
    mask = (
        [
            Column(HOUR_MASK, Integer, nullable=False, server_default="0"),
            Index(f"ix_{name}_source", "source", "bucket_start", postgresql_include=[HOUR_MASK]),
        ]
        if hour_mask
        else []
    )
    return Table(
        name,
        source.metadata,
        *(c._copy() for c in source.columns),
        *mask,
        comment=f"{source.name} summed by local (Asia/Ho_Chi_Minh) calendar day",
    )


def additive_measures(table: Table) -> list[str]:
    """The columns of a tier that add up (not key, gauge reading or bookkeeping)."""
    return [
        c.name
        for c in table.c
        if not c.primary_key
        and not c.name.startswith("latest_")
        and c.name not in ("updated_at", HOUR_MASK)
    ]


def unit_dims(table: Table) -> list[str]:
    """The dimensions of a tier: its key columns other than bucket, commune or unit."""
    place = ("bucket_start", "commune_code", "hierarchy", "unit_code")
    return [c.name for c in table.primary_key if c.name not in place]


def _unit_day_copy(source: Table, name: str, dims: tuple[str, ...]) -> Table:
    """Per (hierarchy, unit, local day, ``dims``): the day tier's additive measures summed
    over the unit's communes (and over the dimensions not kept)."""
    columns = {c.name: c for c in source.columns}
    return Table(
        name,
        source.metadata,
        Column("hierarchy", String(4), primary_key=True),
        Column("unit_code", String(8), primary_key=True),
        columns["bucket_start"]._copy(),
        *(columns[d]._copy() for d in dims),
        *(columns[m]._copy() for m in additive_measures(source)),
        columns["updated_at"]._copy(),
        comment=f"{source.name} summed by administrative unit (every level, both "
        "hierarchies) and local (Asia/Ho_Chi_Minh) calendar day",
    )


def _source_day_mask(source: Table, name: str) -> Table:
    """Per (source, local day): the :data:`HOUR_MASK` of the hours the source's rows fell in."""
    columns = {c.name: c for c in source.columns}
    return Table(
        name,
        source.metadata,
        Column("source", columns["source"].type, primary_key=True),
        columns["bucket_start"]._copy(),
        Column(HOUR_MASK, Integer, nullable=False, server_default="0"),
        columns["updated_at"]._copy(),
        # The masks of a source's days from the index alone (completeness reads them for
        # every source of a year: an index-only scan, not a heap read per day).
        Index(f"ix_{name}_masks", "source", "bucket_start", postgresql_include=[HOUR_MASK]),
        comment=f"{source.name}: local (Asia/Ho_Chi_Minh) hours with rows, per source and day",
    )


TIERS: Registry[Tiers] = Registry("roll-up")
"""Hourly table name → its tiers, for every roll-up."""


def declare_tiers(
    hourly: type[Any] | Table,
    day_name: str,
    *,
    hour_mask: bool = False,
    unit_day_name: str | None = None,
    unit_day_dims: tuple[str, ...] | None = None,
    source_day_mask_name: str | None = None,
) -> Tiers:
    """Declare a roll-up by its hourly table (a mapped class or a table): its day tier
    ``day_name`` is derived here, with the same columns (plus a :data:`HOUR_MASK` with
    ``hour_mask``), and with ``unit_day_name`` its unit day tier, keeping the dimensions
    ``unit_day_dims`` (default: all); ingest, the indicator queries and the tests find them
    through :data:`TIERS`."""
    table = hourly if isinstance(hourly, Table) else hourly.__table__
    assert isinstance(table, Table)
    day = _day_copy(table, day_name, hour_mask=hour_mask)
    dims = tuple(unit_dims(table)) if unit_day_dims is None else unit_day_dims
    unit_day = _unit_day_copy(table, unit_day_name, dims) if unit_day_name else None
    masks = _source_day_mask(table, source_day_mask_name) if source_day_mask_name else None
    return TIERS.add(
        table.name, Tiers(hour=table, day=day, unit_day=unit_day, source_day_mask=masks)
    )


# A unit day tier keeps only the dimensions indicators filter on (a test checks the
# catalogue against them; a metric filtering on another one is summed from the day tier):
# per-source and breakdown dimensions sum nothing up the tree and would repeat each row
# once per unit holding its commune.
for _hourly, _day_name, _dims in (
    (HealthEncounterHourly, "health_encounter_daily", ("encounter_class", "insured")),
    (HealthEncounterDiagnosisHourly, "health_encounter_diagnosis_daily", ()),
    (HealthBedCensusHourly, "health_bed_census_daily", ()),
    (HealthClaimHourly, "health_claim_daily", ()),
    (EducationAttendanceHourly, "education_attendance_daily", ()),
    (EducationReportHourly, "education_report_daily", ()),
    (TourismArrivalHourly, "tourism_arrival_daily", ("kind", "international")),
    (TourismFeedbackHourly, "tourism_feedback_daily", ("channel", "international")),
    (DossierHourly, "public_service_dossier_daily", ("stage", "online_level", "channel")),
    (CitizenReportHourly, "citizen_report_daily", ("stage", "category", "channel")),
):
    declare_tiers(
        _hourly,
        _day_name,
        unit_day_name=_day_name.replace("_daily", "_unit_daily"),
        unit_day_dims=_dims,
    )
# Sources are counted per source, never summed per unit: no unit day tier.
declare_tiers(SourceHourly, "source_daily", hour_mask=True, source_day_mask_name="source_day_mask")


def tiers_of(hourly: Table | str) -> Tiers:
    """The tiers of the roll-up whose hourly table is ``hourly`` (the table or its name)."""
    return TIERS[hourly if isinstance(hourly, str) else hourly.name]


def tier_tables() -> list[str]:
    """Every tier table's name, hourly and coarser (what a test empties between cases)."""
    return [
        t.name
        for tiers in TIERS.values()
        for t in (*(t for _, t in tiers.by_grain()), tiers.unit_day, tiers.source_day_mask)
        if t is not None
    ]

"""Roll-up tiers: every hourly roll-up and the coarser copies of it kept exact beside it.

A day tier has the hourly table's columns, keyed by the local calendar day
(Asia/Ho_Chi_Minh midnight, as an instant in ``bucket_start``) instead of the UTC hour.
Ingest adds the same new rows to every tier of a roll-up in the batch's transaction, so a
day row always equals its hours summed (and holds the day's newest reading where the
roll-up keeps one). Queries with a bucket of a day or longer read the day tier: a year is
365 rows per commune and dimension instead of 8,760.

This registry is the one place that says which tiers exist; ingest, the queries and the
tests all read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Integer, Table

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
    """The tables of one roll-up, finest first."""

    hour: Table
    day: Table

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


TIERS: Registry[Tiers] = Registry("roll-up")
"""Hourly table name → its tiers, for every roll-up."""


def declare_tiers(hourly: type[Any] | Table, day_name: str, *, hour_mask: bool = False) -> Tiers:
    """Declare a roll-up by its hourly table (a mapped class or a table): its day tier
    ``day_name`` is derived here, with the same columns (plus a :data:`HOUR_MASK` with
    ``hour_mask``), and ingest, the indicator queries and the tests find both through
    :data:`TIERS`."""
    table = hourly if isinstance(hourly, Table) else hourly.__table__
    assert isinstance(table, Table)
    day = _day_copy(table, day_name, hour_mask=hour_mask)
    return TIERS.add(table.name, Tiers(hour=table, day=day))


for _hourly, _day_name in (
    (HealthEncounterHourly, "health_encounter_daily"),
    (HealthEncounterDiagnosisHourly, "health_encounter_diagnosis_daily"),
    (HealthBedCensusHourly, "health_bed_census_daily"),
    (HealthClaimHourly, "health_claim_daily"),
    (EducationAttendanceHourly, "education_attendance_daily"),
    (EducationReportHourly, "education_report_daily"),
    (TourismArrivalHourly, "tourism_arrival_daily"),
    (TourismFeedbackHourly, "tourism_feedback_daily"),
    (DossierHourly, "public_service_dossier_daily"),
    (CitizenReportHourly, "citizen_report_daily"),
    (SourceHourly, "source_daily"),
):
    declare_tiers(_hourly, _day_name, hour_mask=_hourly is SourceHourly)


def tiers_of(hourly: Table | str) -> Tiers:
    """The tiers of the roll-up whose hourly table is ``hourly`` (the table or its name)."""
    return TIERS[hourly if isinstance(hourly, str) else hourly.name]


def tier_tables() -> list[str]:
    """Every tier table's name, hourly and coarser (what a test empties between cases)."""
    return [t.name for tiers in TIERS.values() for _, t in tiers.by_grain()]

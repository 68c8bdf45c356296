"""Health tables: HIS encounters (counter), bed census (gauge), BHYT claims (counter)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import PARTITIONED, Base, Count, EventColumns, HourlyColumns, Timestamp


class HealthEncounterRow(EventColumns, Base):
    """One HIS encounter."""

    __tablename__ = "health_encounter"
    __table_args__ = PARTITIONED

    encounter_class: Mapped[str] = mapped_column(String(12))
    age_band: Mapped[str] = mapped_column(String(5))
    sex: Mapped[str] = mapped_column(String(1))
    insured: Mapped[bool] = mapped_column(Boolean)
    icd_chapter: Mapped[str] = mapped_column(String(5))
    icd_code: Mapped[str | None] = mapped_column(String(3))
    wait_minutes: Mapped[int] = mapped_column(Integer)
    cost_vnd: Mapped[int] = mapped_column(BigInteger)


class HealthEncounterHourly(HourlyColumns, Base):
    """Hour × commune × class × insured roll-up of encounters (additive)."""

    __tablename__ = "health_encounter_hourly"

    encounter_class: Mapped[str] = mapped_column(String(12), primary_key=True)
    insured: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    encounters: Mapped[int] = mapped_column(Count)
    wait_minutes_sum: Mapped[int] = mapped_column(Count)
    wait_minutes_sumsq: Mapped[int] = mapped_column(Count)
    cost_vnd_sum: Mapped[int] = mapped_column(Count)


class HealthEncounterDiagnosisHourly(HourlyColumns, Base):
    """Hour × commune × ICD chapter × age band × sex count of encounters (the epidemiology view).

    ``dengue`` counts encounters coded A90/A91/A97, the rainy-season peak the wall watches.
    """

    __tablename__ = "health_encounter_diagnosis_hourly"

    icd_chapter: Mapped[str] = mapped_column(String(5), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(5), primary_key=True)
    sex: Mapped[str] = mapped_column(String(1), primary_key=True)
    encounters: Mapped[int] = mapped_column(Count)
    dengue: Mapped[int] = mapped_column(Count)


class HealthBedCensusRow(EventColumns, Base):
    """One snapshot of a facility's inpatient beds."""

    __tablename__ = "health_bed_census"
    __table_args__ = PARTITIONED

    beds_total: Mapped[int] = mapped_column(Integer)
    beds_occupied: Mapped[int] = mapped_column(Integer)


class HealthBedCensusHourly(HourlyColumns, Base):
    """Hour × commune × facility: sums and count of readings (averages roll up) + the latest.

    Occupancy rate = ``beds_occupied_sum / beds_total_sum``; mean beds = ``sum / readings``.
    ``latest_*`` is the reading with the newest ``latest_at`` in the bucket (not additive:
    sum it across facilities of one bucket, never across buckets).
    """

    __tablename__ = "health_bed_census_hourly"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    readings: Mapped[int] = mapped_column(Count)
    beds_total_sum: Mapped[int] = mapped_column(Count)
    beds_occupied_sum: Mapped[int] = mapped_column(Count)
    latest_at: Mapped[datetime] = mapped_column(Timestamp)
    latest_beds_total: Mapped[int] = mapped_column(Integer)
    latest_beds_occupied: Mapped[int] = mapped_column(Integer)


class HealthClaimRow(EventColumns, Base):
    """One BHYT claim with its e-verification outcome."""

    __tablename__ = "health_claim"
    __table_args__ = PARTITIONED

    claim_id: Mapped[str] = mapped_column(String(64))
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    sent_for_everification: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(10))
    chip_id_lookup: Mapped[bool] = mapped_column(Boolean)
    chip_id_lookup_ok: Mapped[bool | None] = mapped_column(Boolean)


class HealthClaimHourly(HourlyColumns, Base):
    """Hour × commune × clinic (``source``) × outcome roll-up of claims.

    ``source`` is a dimension so "share of insured clinics sending claims for e-verification"
    is ``count(DISTINCT source) FILTER (everified > 0)``. Chip-ID share of visits:
    ``chip_id_lookups / claims``; look-up success: ``chip_id_lookups_ok / chip_id_lookups``.
    """

    __tablename__ = "health_claim_hourly"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(10), primary_key=True)
    claims: Mapped[int] = mapped_column(Count)
    everified: Mapped[int] = mapped_column(Count)
    chip_id_lookups: Mapped[int] = mapped_column(Count)
    chip_id_lookups_ok: Mapped[int] = mapped_column(Count)
    amount_vnd_sum: Mapped[int] = mapped_column(Count)
    amount_vnd_sumsq: Mapped[float] = mapped_column(Float)

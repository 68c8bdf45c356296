"""The store: typed SQLAlchemy tables shared by ingest (writes) and the API (reads).

Event tables keep event time (``occurred_at``) apart from ingest time (``ingested_at``) and
use ``(occurred_at, event_id)`` as primary key, so a replayed event is a no-op and the key
includes the partitioning column as PostgreSQL and TimescaleDB require.
Rollup tables are additive: coarser units and buckets are sums of their rows.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AdminUnit(Base):
    """A province, district or commune in one hierarchy (``2020``: 3 levels, ``2025``: 2)."""

    __tablename__ = "admin_unit"

    hierarchy: Mapped[str] = mapped_column(String(4), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(String(8))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class AdminUnitClosure(Base):
    """Every (ancestor, commune) pair of a hierarchy, so a roll-up to any level is one join.

    ``descendant_code`` is always a commune code as events carry it (GSO 2020 codes), which
    lets the 2025 hierarchy roll up the same rows through the legacy → 2025 crosswalk.
    """

    __tablename__ = "admin_unit_closure"

    hierarchy: Mapped[str] = mapped_column(String(4), primary_key=True)
    ancestor_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    descendant_code: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)
    ancestor_level: Mapped[str] = mapped_column(String(10))


class HealthEncounterRow(Base):
    """One HIS encounter; partitioned by ``occurred_at``."""

    __tablename__ = "health_encounter"
    __table_args__ = {"postgresql_partition_by": "RANGE (occurred_at)"}  # noqa: RUF012

    occurred_at: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    source: Mapped[str] = mapped_column(String(120))
    commune_code: Mapped[str] = mapped_column(String(8))
    encounter_class: Mapped[str] = mapped_column(String(12))
    age_band: Mapped[str] = mapped_column(String(5))
    sex: Mapped[str] = mapped_column(String(1))
    insured: Mapped[bool] = mapped_column(Boolean)
    icd_chapter: Mapped[str] = mapped_column(String(5))
    wait_minutes: Mapped[int] = mapped_column(Integer)
    cost_vnd: Mapped[int] = mapped_column(BigInteger)
    ingested_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class HealthEncounterHourly(Base):
    """Hour × commune × class × insured roll-up of encounters (additive)."""

    __tablename__ = "health_encounter_hourly"

    bucket_start: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    encounter_class: Mapped[str] = mapped_column(String(12), primary_key=True)
    insured: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    encounters: Mapped[int] = mapped_column(BigInteger)
    wait_minutes_sum: Mapped[int] = mapped_column(BigInteger)
    wait_minutes_sumsq: Mapped[int] = mapped_column(BigInteger)
    cost_vnd_sum: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class IngestReject(Base):
    """A message that could not be ingested, kept whole so nothing is silently dropped."""

    __tablename__ = "ingest_reject"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rejected_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text)

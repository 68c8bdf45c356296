"""Administrative units, rejects and the data-quality tables of the IOC itself."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, Count, HourlyColumns, Timestamp


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


class IngestReject(Base):
    """A message that could not be ingested, kept whole so nothing is silently dropped.

    Unique per (topic, partition, offset, content): a batch redelivered after a crash does
    not record its rejects twice, while a topic recreated from offset 0 still records its own.
    """

    __tablename__ = "ingest_reject"
    __table_args__ = (
        Index(
            "uq_ingest_reject_message",
            "topic",
            "partition",
            "offset",
            text("md5(raw)"),
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rejected_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text)


class EventKey(Base):
    """Every stored event's CloudEvents identity, ``(source, id)``, whatever its time.

    The event tables are partitioned by event time, so their primary key must hold
    ``occurred_at`` and cannot see that an event resent with another time is the same
    event; this small, unpartitioned table can. The batch inserts the keys first
    (``ON CONFLICT DO NOTHING RETURNING``) and stores only the events whose key was new.
    ``occurred_at`` is the stored event's time: keys go with their events at retention.
    """

    __tablename__ = "event_key"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(80))
    occurred_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    ingested_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    dataschema: Mapped[str | None] = mapped_column(String(2048))
    traceparent: Mapped[str | None] = mapped_column(String(55))
    tracestate: Mapped[str | None] = mapped_column(String(512))
    partitionkey: Mapped[str | None] = mapped_column(String(256))
    """The optional CloudEvents attributes and extensions the event came with."""


class SourceFreshness(Base):
    """Per source system and event type: newest event time, last ingest time and the lag.

    Updated in the batch transaction from the events that were new. ``lag_seconds`` is
    ``last_ingested_at - last_event_at`` when the last new event arrived.
    """

    __tablename__ = "source_freshness"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(120), primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(8))
    first_event_at: Mapped[datetime] = mapped_column(Timestamp)
    last_event_at: Mapped[datetime] = mapped_column(Timestamp)
    last_ingested_at: Mapped[datetime] = mapped_column(Timestamp)
    lag_seconds: Mapped[float] = mapped_column(Float)
    events: Mapped[int] = mapped_column(Count)


class SourceHourly(HourlyColumns, Base):
    """Hour × commune × source × event type: unique events received, by event time.

    What completeness is computed from (received vs the registry's expected per hour), and
    timeliness: ``within_1h / events`` arrived less than an hour after they happened.
    """

    __tablename__ = "source_hourly"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(120), primary_key=True)
    events: Mapped[int] = mapped_column(Count)
    within_1h: Mapped[int] = mapped_column(Count)
    lag_seconds_sum: Mapped[float] = mapped_column(Float)

"""Declarative base, naming convention and the column sets every event table and roll-up shares."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, MetaData, String, func
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
Count = BigInteger
PARTITIONED = {"postgresql_partition_by": "RANGE (occurred_at)"}
"""Event tables are range-partitioned by event time (hypertables under TimescaleDB)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventColumns:
    """What every event table keeps from the envelope; ``(occurred_at, event_id, source)``
    is the primary key.

    ``occurred_at`` is the partitioning column, so it must be part of the primary key; the
    dedupe key proper, ``(source, event_id)`` whatever the time, is ``event_key``'s.
    """

    occurred_at: Mapped[datetime] = mapped_column(Timestamp, primary_key=True, sort_order=-1)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, sort_order=-1)
    source: Mapped[str] = mapped_column(String(120), primary_key=True, sort_order=-1)
    commune_code: Mapped[str] = mapped_column(String(8))
    ingested_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class HourlyColumns:
    """The key every hourly roll-up starts with, and when the row last changed ("as of").

    ``bucket_start`` is the UTC hour the events happened in (not when they arrived).
    """

    bucket_start: Mapped[datetime] = mapped_column(Timestamp, primary_key=True, sort_order=-1)
    commune_code: Mapped[str] = mapped_column(String(8), primary_key=True, sort_order=-1)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

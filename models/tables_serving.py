"""Tables the API owns: hashed API keys, alerts with their lifecycle, the live-stream log.

Kept apart from the ingest-side tables in ``models.tables`` (same ``Base``, same naming
convention) so each side evolves its own migration branch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Float, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, Timestamp


class ApiKey(Base):
    """An API key, stored as its SHA-256 only: a leaked table does not leak usable keys.

    Keys are long random tokens, so a fast unsalted hash is enough (no dictionary to try);
    it lets a request be authenticated with one indexed lookup.
    """

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12), doc="First characters, to tell keys apart.")
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Alert(Base):
    """One breach of an alert rule for one unit: open → acknowledged → resolved.

    At most one unresolved alert per (rule, unit): a partial unique index makes opening an
    alert that is already open a no-op, even with two evaluators racing.
    """

    __tablename__ = "alert"
    __table_args__ = (
        Index(
            "uq_alert_open_rule_unit",
            "rule_code",
            "unit_code",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index("ix_alert_status_opened_at", "status", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rule_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    indicator_code: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    period_start: Mapped[datetime] = mapped_column(Timestamp)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    acknowledged_at: Mapped[datetime | None] = mapped_column(Timestamp)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    resolution: Mapped[str | None] = mapped_column(String(16))
    """Why it was resolved: ``recovered`` (back past the clear bound), ``not_judged`` (the
    rule no longer judges the unit: too little volume, no usual level, no covered window),
    ``operator`` (resolved by hand)."""


class SourceClosure(Base):
    """A declared closure (``models.closures``): a source, or every source of some kinds in
    a unit, closed from ``starts_at`` to ``ends_at``, owing no report then. Who declared it
    and who withdrew it are kept: a withdrawn closure stays as its record, and counts no more.
    """

    __tablename__ = "source_closure"
    __table_args__ = (
        CheckConstraint("source IS NOT NULL OR unit_code IS NOT NULL", name="closes_something"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_source_closure_period", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source: Mapped[str | None] = mapped_column(String(64))
    unit_code: Mapped[str | None] = mapped_column(String(8))
    kinds: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    starts_at: Mapped[datetime] = mapped_column(Timestamp)
    ends_at: Mapped[datetime] = mapped_column(Timestamp)
    reason: Mapped[str] = mapped_column(Text)
    declared_by: Mapped[str] = mapped_column(String(120))
    declared_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    withdrawn_by: Mapped[str | None] = mapped_column(String(120))
    withdrawn_at: Mapped[datetime | None] = mapped_column(Timestamp)


class StreamEventRow(Base):
    """One live-stream event, written by the deployment's one evaluator and served by every
    API replica; its id is the SSE id, so ``Last-Event-ID`` resumes on any replica. Kept
    for minutes only (pruned by the evaluator)."""

    __tablename__ = "stream_event"
    __table_args__ = (Index("ix_stream_event_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    indicator: Mapped[str | None] = mapped_column(String(64))
    units: Mapped[list[str]] = mapped_column(ARRAY(String(8)), server_default="{}")
    open_data: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    public_only: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """The public's version (small counts withheld) of a value operators get in full."""
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

"""Citizen report lifecycle (1022 hotline, app): every event, current state, transitions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import PARTITIONED, Base, Count, EventColumns, HourlyColumns, Timestamp


class CitizenReportFacts:
    report_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(Timestamp)
    due_at: Mapped[datetime] = mapped_column(Timestamp)
    handling_agency_level: Mapped[str] = mapped_column(String(8))


class CitizenReportEventRow(EventColumns, CitizenReportFacts, Base):
    """Every step of every hotline / app report."""

    __tablename__ = "citizen_report_event"
    __table_args__ = PARTITIONED

    stage: Mapped[str] = mapped_column(String(10))
    resolved_on_time: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[str | None] = mapped_column(String(10))


class CitizenReport(CitizenReportFacts, Base):
    """Current state of one report, merged in event-time order (see :class:`Dossier`).

    As of D: open = ``received_at <= D`` and not done by D (``resolved_at``, else ``rated_at``:
    a rating implies the resolution); overdue = open and
    ``due_at < D``; handling time = ``resolved_at - received_at``.
    """

    __tablename__ = "citizen_report"

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(120))
    commune_code: Mapped[str] = mapped_column(String(8), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    stage_at: Mapped[datetime] = mapped_column(Timestamp)
    assigned_at: Mapped[datetime | None] = mapped_column(Timestamp)
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp, index=True)
    resolved_on_time: Mapped[bool | None] = mapped_column(Boolean)
    rated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    rating: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class CitizenReportHourly(HourlyColumns, Base):
    """Hour × commune × stage × category × channel × agency level: report transitions.

    Handled on time = ``resolved_on_time / reports`` (stage ``resolved``); satisfaction
    (Decision 766) = ``(reports - rated_dislike - late)`` over the resolved and rated steps;
    mean handling hours = ``handling_hours_sum / reports`` (resolved).
    """

    __tablename__ = "citizen_report_hourly"

    stage: Mapped[str] = mapped_column(String(10), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    handling_agency_level: Mapped[str] = mapped_column(String(8), primary_key=True)
    reports: Mapped[int] = mapped_column(Count)
    resolved_on_time: Mapped[int] = mapped_column(Count)
    late: Mapped[int] = mapped_column(Count)
    handling_hours_sum: Mapped[float] = mapped_column(Float)
    handling_hours_sumsq: Mapped[float] = mapped_column(Float)
    rated_satisfied: Mapped[int] = mapped_column(Count)
    rated_neutral: Mapped[int] = mapped_column(Count)
    rated_dislike: Mapped[int] = mapped_column(Count)

"""Public-service dossier lifecycle: every event, the current state per dossier, transitions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import PARTITIONED, Base, Count, EventColumns, HourlyColumns, Timestamp


class DossierFacts:
    """The fixed facts every dossier event repeats (Decision 766 computes from these)."""

    dossier_id: Mapped[str] = mapped_column(String(64))
    procedure_code: Mapped[str] = mapped_column(String(32))
    online_level: Mapped[str] = mapped_column(String(8))
    agency_level: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(8))
    received_at: Mapped[datetime] = mapped_column(Timestamp)
    due_at: Mapped[datetime] = mapped_column(Timestamp)
    fee_vnd: Mapped[int] = mapped_column(BigInteger)
    issues_result: Mapped[bool] = mapped_column(Boolean)
    synced_to_national_portal: Mapped[bool] = mapped_column(Boolean)
    digitised_inputs: Mapped[bool] = mapped_column(Boolean)
    reused_digitised_data: Mapped[bool] = mapped_column(Boolean)
    vneid_authenticated: Mapped[bool] = mapped_column(Boolean)


class DossierEventRow(EventColumns, DossierFacts, Base):
    """Every step of every dossier, as it happened (the audit trail the state is built from)."""

    __tablename__ = "public_service_dossier_event"
    __table_args__ = PARTITIONED

    stage: Mapped[str] = mapped_column(String(24))
    supplement_days: Mapped[float | None] = mapped_column(Float)
    paid_online: Mapped[bool | None] = mapped_column(Boolean)
    e_result: Mapped[bool | None] = mapped_column(Boolean)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[str | None] = mapped_column(String(10))
    complaint: Mapped[bool | None] = mapped_column(Boolean)


class Dossier(DossierFacts, Base):
    """Current state of one dossier, merged from its events in event-time order.

    ``stage``/``stage_at`` and the fixed facts follow the newest event only, so a late
    earlier step never rolls the state back; each step's own columns (``completed_at``,
    ``on_time``…) are filled by that step's event whenever it arrives. As of a date D:
    received = ``received_at <= D``; open = not done by D, done being ``completed_at``, else
    ``rated_at`` (a rating implies the completion, whose time is then unknown); overdue open
    = open and ``due_at + supplement_days < D`` (the citizen's supplement time does not count).
    """

    __tablename__ = "public_service_dossier"

    dossier_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(120))
    commune_code: Mapped[str] = mapped_column(String(8), index=True)
    stage: Mapped[str] = mapped_column(String(24))
    stage_at: Mapped[datetime] = mapped_column(Timestamp)
    supplement_requested_at: Mapped[datetime | None] = mapped_column(Timestamp)
    supplement_received_at: Mapped[datetime | None] = mapped_column(Timestamp)
    supplements: Mapped[int] = mapped_column(Integer)
    supplement_days: Mapped[float] = mapped_column(Float)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp, index=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    paid_online: Mapped[bool | None] = mapped_column(Boolean)
    e_result: Mapped[bool | None] = mapped_column(Boolean)
    rated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    rating: Mapped[str | None] = mapped_column(String(10))
    complaint: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class DossierHourly(HourlyColumns, Base):
    """Hour × commune × stage × agency level × online level × channel: dossier transitions.

    Bucketed by the step's event time. Decision 766 numerators and denominators are sums:
    received = ``dossiers WHERE stage='received'``; online submission = the same with
    ``channel='online'``; synced = ``synced``; with fee = ``with_fee`` (online payment =
    ``paid_online / with_fee`` over ``stage='completed'``); e-result = ``e_result /
    issues_result``; digitised = ``digitised_with_e_result / dossiers`` (completed);
    mean processing days = ``elapsed_days_sum / dossiers`` (completed, calendar days,
    supplement time included: subtract ``supplement_days_sum`` of ``supplement_received``);
    ratings that were "dislike" or came with a complaint = ``rated_dislike_or_complaint``
    (each counted once, for satisfaction).
    """

    __tablename__ = "public_service_dossier_hourly"

    stage: Mapped[str] = mapped_column(String(24), primary_key=True)
    agency_level: Mapped[str] = mapped_column(String(8), primary_key=True)
    online_level: Mapped[str] = mapped_column(String(8), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    dossiers: Mapped[int] = mapped_column(Count)
    synced: Mapped[int] = mapped_column(Count)
    digitised_inputs: Mapped[int] = mapped_column(Count)
    reused_digitised_data: Mapped[int] = mapped_column(Count)
    vneid_authenticated: Mapped[int] = mapped_column(Count)
    with_fee: Mapped[int] = mapped_column(Count)
    issues_result: Mapped[int] = mapped_column(Count)
    on_time: Mapped[int] = mapped_column(Count)
    late: Mapped[int] = mapped_column(Count)
    paid_online: Mapped[int] = mapped_column(Count)
    e_result: Mapped[int] = mapped_column(Count)
    digitised_with_e_result: Mapped[int] = mapped_column(Count)
    elapsed_days_sum: Mapped[float] = mapped_column(Float)
    elapsed_days_sumsq: Mapped[float] = mapped_column(Float)
    supplement_days_sum: Mapped[float] = mapped_column(Float)
    rated_satisfied: Mapped[int] = mapped_column(Count)
    rated_neutral: Mapped[int] = mapped_column(Count)
    rated_dislike: Mapped[int] = mapped_column(Count)
    complaints: Mapped[int] = mapped_column(Count)
    rated_dislike_or_complaint: Mapped[int] = mapped_column(Count)

"""Lifecycle entities counted per moment, commune and local day: running totals kept by ingest.

How many of a state table's entities were received, finished, fell due, or fell due and
were finished (the later of the two) on each local day in each commune. Ingest keeps the
counts in the batch's transaction: when a state row changes, its old moments are taken off
their days and its new ones added, so a day row always equals a count of the state table.
"Open at ``t``" is then received before ``t`` less finished before ``t``, summed over a
year's day rows instead of a scan of every entity (``app.indicators.repository``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, Timestamp


class LifecycleDaily(Base):
    """Entities of ``state_table`` whose ``moment`` fell on the local day ``bucket_start``
    (Asia/Ho_Chi_Minh midnight) in ``commune_code``. Moments: ``received``, ``done``
    (finished), ``due`` (deadline, after the citizen's supplement time) and
    ``due_or_done`` (the later of deadline and finish, for finished entities)."""

    __tablename__ = "lifecycle_daily"

    state_table: Mapped[str] = mapped_column(String(80), primary_key=True)
    moment: Mapped[str] = mapped_column(String(20), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    entities: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

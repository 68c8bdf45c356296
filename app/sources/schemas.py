"""Source-system status responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class SourceStatus(BaseModel):
    source: str = Field(examples=["his/TTYT-502"])
    name: str = Field(examples=["Trung tâm Y tế Thành phố Tam Kỳ"])
    unit_code: str = Field(description="Commune the source system sits in.", examples=["20281"])
    sector: str = Field(examples=["health"])
    event_types: list[str]
    cadence: Literal["hour", "day", "week", "none"] = Field(
        description="The slot it owes a report in (models/cadence.py); none: too small to owe any."
    )
    last_event_at: datetime | None = Field(description="Newest event time ever received from it.")
    lag_seconds: float | None = Field(description="Mean ingest − event time over the period.")
    expected_slots: int = Field(description="Owed reporting slots of the period due so far.")
    received_slots: int = Field(description="Of those, slots in which something arrived.")
    completeness: float | None = Field(
        description="received_slots ÷ expected_slots (≤ 1); null when none is owed yet."
    )
    expected: float = Field(description="Events expected in the period's reporting hours.")
    received: int = Field(description="Unique events whose event time falls in the period.")
    volume_ratio: float | None = Field(
        description="received ÷ expected events (follows the seasons; may pass 1)."
    )
    on_time_share: float | None = Field(description="Share stored within an hour of happening.")
    missed_slots: int = Field(description="Owed slots overdue in a row (up to 3, silent).")
    overdue_since: datetime | None = Field(description="Due time of the oldest missed slot.")
    next_due_at: datetime | None = Field(description="When the next owed report is due.")
    status: Literal["fresh", "late", "silent"] = Field(
        description="fresh: its last owed slot arrived; late: 1–2 owed slots overdue (past a "
        "30-minute grace); silent: 3 or more."
    )

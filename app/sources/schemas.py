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
    last_event_at: datetime | None = Field(description="Newest event time ever received from it.")
    lag_seconds: float | None = Field(description="Mean ingest − event time over the period.")
    expected: float = Field(description="Events expected in the period's reporting hours.")
    received: int = Field(description="Unique events whose event time falls in the period.")
    completeness: float | None = Field(
        description="received ÷ expected, capped at 1; null when none is expected."
    )
    on_time_share: float | None = Field(description="Share stored within an hour of happening.")
    silent_reporting_hours: float = Field(
        description="Reporting hours since the last event, counted up to the silent mark (3)."
    )
    status: Literal["fresh", "late", "silent"]

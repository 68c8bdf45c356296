"""Source-system status responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator


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
    status: Literal["fresh", "late", "silent", "closed"] = Field(
        description="fresh: its last owed slot arrived; late: 1–2 owed slots overdue (past a "
        "30-minute grace); silent: 3 or more; closed: a declared closure holds (it owes "
        "nothing while closed)."
    )


class ClosureIn(BaseModel):
    """A closure to declare: one source, or the sources of some kinds in a unit."""

    source: str | None = Field(default=None, examples=["school/TH-20650"])
    unit_code: str | None = Field(
        default=None,
        description="A commune, a district (2020 tree) or the province: every source in it.",
        examples=["508"],
    )
    kinds: list[str] = Field(
        default=[],
        description="Only sources of these kinds (models/sources.py); all kinds when empty.",
        examples=[["primary", "commune_desk"]],
    )
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(min_length=1, max_length=500, examples=["Lũ lụt"])

    @model_validator(mode="after")
    def _closes_something(self) -> ClosureIn:
        if (self.source is None) == (self.unit_code is None):
            raise ValueError("name either a source or a unit_code")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class ClosureOut(ClosureIn):
    id: int
    declared_by: str
    declared_at: datetime
    withdrawn_by: str | None
    withdrawn_at: datetime | None
    sources: list[str] = Field(description="The registered sources it closes.")

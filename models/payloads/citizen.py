"""Citizen-feedback payloads: the 1022 hotline and the Smart Quảng Nam app.

Like dossiers, a report is a lifecycle: one event per step, each repeating the fixed facts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

ReportCategory = Literal[
    "procedures",  # questions about administrative procedures
    "emergency",  # forwarded to 113 / 114 / 115
    "environment",
    "infrastructure",
    "public_order",
    "other",
]


class CitizenReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: str = Field(min_length=1, max_length=64, description="The lifecycle entity key.")
    stage: Literal["received", "assigned", "resolved", "rated"]
    category: ReportCategory
    channel: Literal["call_1022", "app", "zalo", "web"]
    received_at: AwareDatetime
    due_at: AwareDatetime = Field(description="Handling deadline (15 working days by default).")
    handling_agency_level: Literal["province", "district", "commune"]
    resolved_on_time: bool | None = Field(default=None, description="resolved: within due_at.")
    rating: Literal["satisfied", "neutral", "dislike"] | None = None

    @model_validator(mode="after")
    def _stage_fields(self) -> CitizenReport:
        if self.due_at < self.received_at:
            raise ValueError("due_at is before received_at")
        if self.stage == "rated" and self.rating is None:
            raise ValueError("a rated event needs rating")
        return self

"""Alert responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

AlertStatus = Literal["open", "acknowledged", "resolved"]


class AlertOut(BaseModel):
    id: int = Field(examples=[42])
    rule_code: str = Field(examples=["health.emergency_share_high"])
    kind: Literal["threshold", "anomaly"]
    indicator_code: str = Field(examples=["health.emergency_share"])
    unit_code: str = Field(examples=["503"])
    unit_name: str = Field(examples=["Thành phố Hội An"])
    severity: Literal["info", "warning", "critical"]
    status: AlertStatus
    period_start: datetime = Field(
        description="Start of the window or bucket judged (the latest, while the alert is open)."
    )
    value: float | None = Field(description="The current value, refreshed while it is open.")
    threshold: float | None = Field(
        description="Threshold, or the usual value (median of earlier weeks) for anomaly "
        "rules and threshold rules with a baseline."
    )
    message: str = Field(
        description="The text in the language asked (?lang=vi, the default, "
        "or en), with the unit's name and the current value."
    )
    message_vi: str
    message_en: str
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolution: Literal["recovered", "not_judged", "operator"] | None = Field(
        default=None,
        description="Why it was resolved: recovered (the value is back past the rule's clear "
        "bound), not_judged (the rule no longer judges the unit: too little volume, no usual "
        "level to compare with, or no window the data covers), operator (by hand).",
    )


class EvaluationResult(BaseModel):
    evaluated_rules: int
    opened: list[AlertOut]
    resolved: list[AlertOut]

"""Indicator responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from models.indicators import Indicator


class IndicatorValue(BaseModel):
    unit_code: str = Field(examples=["502"])
    period_start: datetime = Field(description="Bucket start, Asia/Ho_Chi_Minh time.")
    value: float | None = Field(description="factor × numerator / denominator; null when N/A.")
    numerator: float
    denominator: float | None
    target: float | None = None
    gap: float | None = None
    status: Literal["green", "amber", "red", "none"] = "none"
    completeness: float | None = None
    as_of: datetime | None = Field(description="When the newest contributing roll-up changed.")


class IndicatorSeries(BaseModel):
    indicator: Indicator
    values: list[IndicatorValue]

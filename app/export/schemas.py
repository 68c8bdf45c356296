"""Export documents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.indicators.schemas import IndicatorValue
from models.indicators import Indicator

LICENSE = "CC BY 4.0"
ExportedValue = IndicatorValue


class ExportDocument(BaseModel):
    indicator: Indicator = Field(description="The catalogue entry: the series' metadata.")
    license: str = LICENSE
    generated_at: datetime
    hierarchy: str
    bucket: str
    values: list[ExportedValue]

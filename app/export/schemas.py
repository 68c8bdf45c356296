"""Export documents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.indicators.schemas import IndicatorValue
from models.indicators import Indicator

LICENSE = "CC BY 4.0"
SMALL_COUNT = 5


class ExportedValue(IndicatorValue):
    suppressed: bool = Field(
        default=False,
        description=f"Numerator or denominator under {SMALL_COUNT} in a health series: "
        "counts and value withheld so no patient can be singled out.",
    )


class ExportDocument(BaseModel):
    indicator: Indicator = Field(description="The catalogue entry: the series' metadata.")
    license: str = LICENSE
    generated_at: datetime
    hierarchy: str
    bucket: str
    values: list[ExportedValue]

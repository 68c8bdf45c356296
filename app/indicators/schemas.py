"""Indicator responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from models.indicators import Indicator

Status = Literal["green", "amber", "red", "none"]


class IndicatorValue(BaseModel):
    unit_code: str = Field(examples=["502"])
    period_start: datetime = Field(description="Bucket start, Asia/Ho_Chi_Minh time.")
    value: float | None = Field(
        description="factor × numerator / denominator, two decimals; null when N/A "
        "(denominator 0 or unknown).",
        examples=[12.34],
    )
    numerator: float | None = Field(examples=[1234], description="null only when suppressed.")
    denominator: float | None = Field(examples=[10000])
    target: float | None = Field(
        default=None,
        description="The target in force: the next milestone, else the latest one passed.",
    )
    gap: float | None = Field(default=None, description="value − target.")
    status: Status = Field(default="none", description="Against the target's band.")
    completeness: float | None = Field(
        default=None,
        description="Events received ÷ expected from the sources feeding this unit and "
        "period (0–1); null when no source is expected to report.",
    )
    as_of: datetime | None = Field(description="When the newest contributing roll-up changed.")
    suppressed: bool = Field(
        default=False,
        description="A health count under 5 (or the sibling withheld with it, so that it "
        "cannot be recovered from the parent's total): counts and value withheld from the "
        "public so no patient can be singled out.",
    )
    partial: bool = Field(
        default=False,
        description="The period is cut by the query's window or not over yet: the value "
        "(and completeness) covers only part of it.",
    )
    period_covered: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of the period's time the value covers: inside the query's window "
        "and already past (1 for a whole, finished period).",
    )


class IndicatorSeries(BaseModel):
    indicator: Indicator
    values: list[IndicatorValue]


class RankedUnit(IndicatorValue):
    rank: int = Field(ge=1, description="1 = best, by the indicator's direction.")


class Ranking(BaseModel):
    indicator: Indicator
    period_start: datetime
    bucket: str
    level: str
    overall: IndicatorValue | None = Field(description="The unit ranked within (province).")
    units: list[RankedUnit]


_SET_BY_VALUES = {name for name in IndicatorValue.model_fields if name != "suppressed"}
_new = object.__new__
_set = object.__setattr__


def known_value(
    unit_code: str,
    period_start: datetime,
    value: float | None,
    numerator: float,
    denominator: float | None,
    target: float | None,
    gap: float | None,
    status: Status,
    completeness: float | None,
    as_of: datetime | None,
    partial: bool,
    period_covered: float,
) -> IndicatorValue:
    """A value worked out here, every field already of its type (floats as floats): what
    ``IndicatorValue.model_construct`` makes, without its pass over the fields per value. A
    year of commune values spent more time validated one by one (or built by
    ``model_construct``) than summed; the values are the service's own arithmetic, so there
    is nothing to check. ``tests/test_indicators_values_shape.py`` holds it to the
    validated model, byte for byte."""
    made = _new(IndicatorValue)
    _set(made, "__dict__", {
        "unit_code": unit_code, "period_start": period_start, "value": value,
        "numerator": numerator, "denominator": denominator, "target": target, "gap": gap,
        "status": status, "completeness": completeness, "as_of": as_of, "suppressed": False,
        "partial": partial, "period_covered": period_covered,
    })  # fmt: skip
    _set(made, "__pydantic_fields_set__", set(_SET_BY_VALUES))
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made

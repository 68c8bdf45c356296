"""Education payloads, as the school management system (CSDL ngành giáo dục) reports them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SchoolLevel = Literal["preschool", "primary", "lower_secondary", "upper_secondary"]


class SchoolAttendance(BaseModel):
    """Attendance of one grade of one school on one school day (a gauge per day)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    school_level: SchoolLevel
    grade: int = Field(ge=0, le=12, description="0 for preschool.")
    day: dt.date = Field(description="Local school day the figures are for.")
    enrolled: int = Field(ge=0, le=5_000)
    present: int = Field(ge=0, le=5_000)

    @model_validator(mode="after")
    def _present_within_enrolled(self) -> SchoolAttendance:
        if self.present > self.enrolled:
            raise ValueError("present exceeds enrolled")
        return self


class SchoolReport(BaseModel):
    """A periodic school report (monthly, semester, year) with its headcounts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    school_level: SchoolLevel
    period: str = Field(pattern=r"^\d{4}-(M(0[1-9]|1[0-2])|S[12]|Y)$", examples=["2025-S1"])
    pupils: int = Field(ge=0, le=10_000)
    classes: int = Field(ge=0, le=500)
    teachers: int = Field(ge=0, le=1_000)
    due: dt.date = Field(description="When the report was due.")

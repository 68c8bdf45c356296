"""The indicator catalogue, as data: adding an indicator is adding an entry here.

Each indicator is ``factor × numerator / denominator`` (or just ``numerator`` when it is a
count) where both are sums of a roll-up measure under a filter, so every indicator rolls up
from commune to district to province and from hour to year by summing first, dividing last.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["province", "district", "commune"]


class Metric(BaseModel):
    """A sum over one roll-up table: ``sum(measure) WHERE filters``."""

    model_config = ConfigDict(frozen=True)

    rollup: str = Field(description="Roll-up table name.")
    measure: str = Field(description="Additive column of that table.")
    filters: dict[str, str | bool] = Field(default_factory=dict)


class Indicator(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[a-z]+\.[a-z0-9_]+$")
    name_vi: str
    name_en: str
    sector: Literal["health", "education", "tourism", "public_services", "citizen", "data"]
    unit: str = Field(description="What the value counts: 'encounters', '%', 'minutes'…")
    numerator: Metric
    denominator: Metric | None = None
    factor: float = 1.0
    higher_is_better: bool | None = None
    open_data: bool = True
    levels: tuple[Level, ...] = ("province", "district", "commune")


def _enc(measure: str = "encounters", **filters: str | bool) -> Metric:
    return Metric(rollup="health_encounter_hourly", measure=measure, filters=filters)


CATALOGUE: tuple[Indicator, ...] = (
    Indicator(
        code="health.encounters",
        name_vi="Số lượt khám chữa bệnh",
        name_en="Health encounters",
        sector="health",
        unit="encounters",
        numerator=_enc(),
    ),
    Indicator(
        code="health.emergency_share",
        name_vi="Tỷ lệ lượt cấp cứu",
        name_en="Share of encounters that are emergencies",
        sector="health",
        unit="%",
        numerator=_enc(encounter_class="emergency"),
        denominator=_enc(),
        factor=100,
    ),
    Indicator(
        code="health.insured_share",
        name_vi="Tỷ lệ lượt khám có thẻ BHYT",
        name_en="Share of encounters covered by health insurance",
        sector="health",
        unit="%",
        numerator=_enc(insured=True),
        denominator=_enc(),
        factor=100,
        higher_is_better=True,
    ),
    Indicator(
        code="health.avg_wait_minutes",
        name_vi="Thời gian chờ khám trung bình",
        name_en="Average wait before examination",
        sector="health",
        unit="minutes",
        numerator=_enc("wait_minutes_sum"),
        denominator=_enc(),
        higher_is_better=False,
    ),
)

BY_CODE: dict[str, Indicator] = {i.code: i for i in CATALOGUE}

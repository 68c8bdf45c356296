"""Alert rules, as data: adding a rule is adding an entry; ``app.alerts`` interprets them.

Two kinds:

- :class:`ThresholdRule`: the indicator over the last ``window_hours`` (summed first,
  divided last, like any bucket) at every unit of ``level`` is compared with ``threshold``;
- :class:`AnomalyRule`: the indicator's value for the last complete bucket is compared with
  the same bucket ``baseline_step_days`` earlier, ``baseline_periods`` times back (the same
  weekday of earlier weeks, the same month of earlier years…), by a robust z-score
  ``0.6745 × (x − median) / MAD``, which one outlier in the baseline does not distort.

A breach opens an alert (one open alert per rule and unit); when the unit is back within
bounds the alert is resolved by the evaluator, acknowledged or not.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.catalogue import BY_CODE

Severity = Literal["info", "warning", "critical"]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[a-z0-9_.]+$")
    indicator: str
    level: Literal["province", "district", "commune"]
    severity: Severity = "warning"
    description: str
    min_denominator: float = Field(
        default=0, description="Skip units whose denominator (or count) is below this: noise."
    )


class ThresholdRule(_Rule):
    kind: Literal["threshold"] = "threshold"
    window_hours: int = Field(ge=1, le=24 * 31)
    op: Literal["<", ">"]
    threshold: float


class AnomalyRule(_Rule):
    kind: Literal["anomaly"] = "anomaly"
    bucket: Literal["day", "week", "month"] = "day"
    baseline_step_days: int = Field(default=7, ge=1, le=366)
    baseline_periods: int = Field(default=8, ge=4, le=20)
    z: float = Field(default=3.5, gt=0)
    direction: Literal["high", "low", "both"] = "high"


AlertRule = ThresholdRule | AnomalyRule

RULES: tuple[AlertRule, ...] = (
    ThresholdRule(
        code="health.emergency_share_high", indicator="health.emergency_share",
        level="district", window_hours=6, op=">", threshold=25, min_denominator=30,
        description="More than a quarter of a district's encounters in 6 hours are "
        "emergencies: a mass-casualty event or a clinic down.",
    ),
    ThresholdRule(
        code="health.bed_occupancy_overload", indicator="health.bed_occupancy",
        level="district", window_hours=24, op=">", threshold=100, severity="critical",
        min_denominator=10, description="Beds over capacity for a day (shared beds).",
    ),
    ThresholdRule(
        code="ps.on_time_low", indicator="ps.on_time_rate", level="district",
        window_hours=24 * 7, op="<", threshold=90, min_denominator=20,
        description="Under 90% of a week's completed dossiers on time (Decision 766).",
    ),
    ThresholdRule(
        code="citizen.on_time_low", indicator="citizen.on_time_rate", level="district",
        window_hours=24 * 7, op="<", threshold=80, min_denominator=10,
        description="Under 80% of a week's citizen requests handled on time.",
    ),
    ThresholdRule(
        code="data.completeness_low", indicator="data.completeness", level="district",
        window_hours=3, op="<", threshold=50, severity="critical", min_denominator=5,
        description="A district's sources sent under half of what was expected in 3 hours: "
        "a feed is down (Khánh Hòa reminds units about late data).",
    ),
    ThresholdRule(
        code="education.attendance_low", indicator="education.attendance_rate",
        level="district", window_hours=24, op="<", threshold=85, min_denominator=100,
        description="Attendance under 85% on a school day (flood, epidemic).",
    ),
    AnomalyRule(
        code="health.encounters_spike", indicator="health.encounters", level="district",
        bucket="day", baseline_step_days=7, baseline_periods=8, z=3.5, direction="high",
        min_denominator=20,
        description="A district's daily encounters far above the same weekday of the last "
        "8 weeks (dengue season, outbreak).",
    ),
    AnomalyRule(
        code="citizen.reports_spike", indicator="citizen.reports", level="district",
        bucket="day", baseline_step_days=7, baseline_periods=8, z=3.5, direction="high",
        min_denominator=5,
        description="A district's hotline reports far above the same weekday of earlier "
        "weeks (flooding, outage).",
    ),
    AnomalyRule(
        code="tourism.visitors_drop", indicator="tourism.visitors", level="district",
        bucket="day", baseline_step_days=7, baseline_periods=8, z=3.5, direction="low",
        min_denominator=50,
        description="A district's visitors far below the same weekday of earlier weeks.",
    ),
)  # fmt: skip

BY_RULE: dict[str, AlertRule] = {r.code: r for r in RULES}
assert len(BY_RULE) == len(RULES), "duplicate rule codes"
for _rule in RULES:
    assert _rule.indicator in BY_CODE, f"{_rule.code}: unknown indicator {_rule.indicator}"
    assert _rule.level in BY_CODE[_rule.indicator].levels, f"{_rule.code}: level not offered"

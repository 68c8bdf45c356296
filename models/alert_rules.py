"""Alert rules, as data: adding a rule is adding an entry; ``app.alerts`` interprets them.

Two kinds:

- :class:`ThresholdRule`: the indicator over the last ``window_hours`` (summed first,
  divided last, like any bucket) at every unit of ``level`` is compared with ``threshold``;
- :class:`AnomalyRule`: the indicator's value for the last complete bucket is compared with
  the same bucket ``baseline_step_days`` earlier, ``baseline_periods`` times back (the same
  weekday of earlier weeks, the same month of earlier years…), by a robust z-score
  ``0.6745 × (x − median) / MAD``, which one outlier in the baseline does not distort.

A breach opens an alert (one open alert per rule and unit). Hysteresis: it is resolved by
the evaluator (acknowledged or not) only once the unit is back past ``clear_at`` (threshold)
or within ``clear_z`` (anomaly), so a value wavering at the threshold does not flap.
A threshold rule with ``baseline_weeks`` judges the excess over the median of the same
hours of the same weekday in earlier weeks (an emergency share that is always high at
night is not an alarm at night); with ``significance_z`` the excess must also be beyond
chance at the window's volume (a dawn window of 35 encounters swings 15 points by chance).
Rules are judged only on data that has stopped arriving and on windows the data covers
whole (``app.alerts.coverage``): a backfill still catching up raises nothing for its
hours, and nothing before the first stored event reads as missing or as the usual level.
An open alert the evaluator no longer judges (too little volume, no usual level) is
resolved as ``not_judged``; one back past the clear bound as ``recovered``.

What each rule needs to fire (for scenarios): a threshold rule, a window of
``window_hours`` ending at the last whole hour, wholly after the first event of its
indicator's streams, whose volume (denominator, or count) is at least ``min_denominator``
and whose value is beyond ``threshold`` — or, with ``baseline_weeks``, exceeds by that
much the median of the same window 1…N weeks earlier (each also covered whole and of
minimum volume; at least one needed), and with ``significance_z`` beyond chance.
``data.completeness_low`` counts owed reporting slots (``models.cadence``) of the
district's sources: at least 5 owed in the 3 hours and under half arrived (a hospital's
HIS and BHYT feeds in clinic hours are about 6). An anomaly rule, the last whole bucket
against at least ``baseline_periods // 2`` earlier buckets the data covers whole, its
volume (for ``low``: the usual volume) at least ``min_denominator``, robust z beyond ``z``.
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
    description_vi: str
    min_denominator: float = Field(
        default=0, description="Skip units whose denominator (or count) is below this: noise."
    )


class ThresholdRule(_Rule):
    kind: Literal["threshold"] = "threshold"
    window_hours: int = Field(ge=1, le=24 * 31)
    op: Literal["<", ">"]
    threshold: float
    clear_at: float | None = Field(
        default=None, description="Resolve only once back past this (hysteresis); None: at "
        "the threshold.",
    )  # fmt: skip
    baseline_weeks: int = Field(
        default=0, ge=0, le=12, description="When > 0, the threshold applies to the value "
        "minus the median of the same window 1…N weeks earlier (same weekday and hours).",
    )  # fmt: skip
    significance_z: float | None = Field(
        default=None, gt=0, description="For a share with a baseline: a breach must also be "
        "this many standard errors beyond the usual share (two-proportion z-test of the "
        "window's counts against the baseline windows' pooled counts), so a swing that "
        "chance gives a small district is not an alarm.",
    )  # fmt: skip

    @property
    def clear_bound(self) -> float:
        return self.threshold if self.clear_at is None else self.clear_at


class AnomalyRule(_Rule):
    kind: Literal["anomaly"] = "anomaly"
    bucket: Literal["day", "week", "month"] = "day"
    baseline_step_days: int = Field(default=7, ge=1, le=366)
    baseline_periods: int = Field(default=8, ge=4, le=20)
    z: float = Field(default=3.5, gt=0)
    direction: Literal["high", "low", "both"] = "high"
    clear_z: float = Field(default=2.0, ge=0, description="Resolve once |z| is back under this.")
    min_change: float = Field(
        default=0, ge=0, lt=1, description="Breach only when the value is also at least this "
        "share away from the usual one: a large, smooth count (visitors) varies so little "
        "week to week that a season's turn alone is many deviations from its baseline.",
    )  # fmt: skip


AlertRule = ThresholdRule | AnomalyRule

RULES: tuple[AlertRule, ...] = (
    ThresholdRule(
        code="health.emergency_share_high", indicator="health.emergency_share",
        level="district", window_hours=6, op=">", threshold=15, clear_at=8, baseline_weeks=4,
        min_denominator=30, significance_z=3,
        description="A district's emergency share over 6 hours is 15 points above the same "
        "hours of earlier weeks: a mass-casualty event or a clinic down (at night only "
        "emergency departments are open, so the usual share then is high).",
        description_vi="Tỷ lệ cấp cứu của huyện trong 6 giờ cao hơn 15 điểm so với cùng "
        "khung giờ các tuần trước: có thể có sự cố nhiều người bị nạn hoặc phòng khám ngừng.",
    ),
    ThresholdRule(
        code="health.bed_occupancy_overload", indicator="health.bed_occupancy",
        level="district", window_hours=24, op=">", threshold=10, clear_at=5, baseline_weeks=4,
        severity="critical", min_denominator=10,
        description="A district's beds over a day 10 points fuller than the same day of "
        "earlier weeks: an influx (flood, outbreak). Provincial hospitals run over 100% "
        "(shared beds) as a matter of course, so the usual level is the baseline.",
        description_vi="Công suất giường bệnh của huyện trong ngày cao hơn 10 điểm so với "
        "cùng ngày các tuần trước: người bệnh tăng đột biến (lũ lụt, dịch bệnh).",
    ),
    ThresholdRule(
        code="health.dengue_surge", indicator="health.dengue_cases", level="district",
        window_hours=24, op=">", threshold=20, clear_at=8, baseline_weeks=4,
        description="A district's dengue cases over a day 20 above the same day of earlier "
        "weeks: an outbreak to send vector control to (the season's level is the baseline; "
        "20 cases is the minimum volume, so a usual day of 0–5 cases still counts).",
        description_vi="Số ca sốt xuất huyết của huyện trong ngày cao hơn 20 ca so với cùng "
        "ngày các tuần trước: có thể bùng phát dịch, cần phun hóa chất diệt muỗi.",
    ),
    ThresholdRule(
        code="ps.on_time_low", indicator="ps.on_time_rate", level="district",
        window_hours=24 * 7, op="<", threshold=90, clear_at=92, min_denominator=20,
        description="Under 90% of a week's completed dossiers on time (Decision 766).",
        description_vi="Dưới 90% hồ sơ giải quyết trong tuần đúng hạn (Quyết định 766).",
    ),
    ThresholdRule(
        code="citizen.on_time_low", indicator="citizen.on_time_rate", level="district",
        window_hours=24 * 7, op="<", threshold=80, clear_at=83, min_denominator=40,
        description="Under 80% of a week's citizen requests handled on time.",
        description_vi="Dưới 80% phản ánh, kiến nghị trong tuần được xử lý đúng hạn.",
    ),
    ThresholdRule(
        code="data.completeness_low", indicator="data.completeness", level="district",
        window_hours=3, op="<", threshold=50, clear_at=80, severity="critical",
        min_denominator=5,
        description="A district's sources sent in under half of the reporting slots they "
        "owed in 3 hours: a feed is down (Khánh Hòa reminds units about late data).",
        description_vi="Các nguồn dữ liệu của huyện gửi chưa đến một nửa số kỳ báo cáo phải "
        "gửi trong 3 giờ: có nguồn đang ngừng gửi.",
    ),
    ThresholdRule(
        code="data.hospital_feed_down", indicator="data.hospital_feed_completeness",
        level="district", window_hours=3, op="<", threshold=60, clear_at=90,
        severity="critical", min_denominator=3,
        description="A district's hospitals sent under 60% of the hourly reports they owed "
        "in 3 hours: a hospital information system feed is down (one of two hospitals is "
        "enough).",
        description_vi="Bệnh viện của huyện gửi chưa đến 60% số báo cáo hằng giờ phải gửi "
        "trong 3 giờ: phần mềm quản lý bệnh viện đang ngừng gửi dữ liệu.",
    ),
    ThresholdRule(
        code="education.attendance_low", indicator="education.attendance_rate",
        level="district", window_hours=24, op="<", threshold=85, clear_at=88,
        min_denominator=100,
        description="Attendance under 85% on a school day (flood, epidemic).",
        description_vi="Tỷ lệ chuyên cần dưới 85% trong ngày học (lũ lụt, dịch bệnh).",
    ),
    AnomalyRule(
        code="health.encounters_spike", indicator="health.encounters", level="district",
        bucket="day", baseline_step_days=7, baseline_periods=8, z=3.5, direction="high",
        min_denominator=20,
        description="A district's daily encounters far above the same weekday of the last "
        "8 weeks (dengue season, outbreak).",
        description_vi="Lượt khám trong ngày của huyện cao bất thường so với cùng thứ của 8 "
        "tuần trước (mùa sốt xuất huyết, dịch bệnh).",
    ),
    AnomalyRule(
        code="citizen.reports_spike", indicator="citizen.reports", level="district",
        bucket="day", baseline_step_days=7, baseline_periods=8, z=3.5, direction="high",
        min_denominator=5,
        description="A district's hotline reports far above the same weekday of earlier "
        "weeks (flooding, outage).",
        description_vi="Phản ánh qua đường dây nóng của huyện cao bất thường so với cùng thứ "
        "các tuần trước (ngập lụt, mất điện nước).",
    ),
    AnomalyRule(
        code="tourism.visitors_drop", indicator="tourism.visitors", level="district",
        bucket="day", baseline_step_days=7, baseline_periods=8, z=3.5, direction="low",
        min_denominator=50, min_change=0.4,
        description="A district's visitors far below the same weekday of earlier weeks, by "
        "over 40% (the low season's start is a smaller step: a site closed, a storm).",
        description_vi="Lượt khách của huyện thấp bất thường so với cùng thứ các tuần trước, "
        "giảm trên 40% (đóng cửa điểm tham quan, bão lũ).",
    ),
)  # fmt: skip

BY_RULE: dict[str, AlertRule] = {r.code: r for r in RULES}
assert len(BY_RULE) == len(RULES), "duplicate rule codes"
for _rule in RULES:
    assert _rule.indicator in BY_CODE, f"{_rule.code}: unknown indicator {_rule.indicator}"
    assert _rule.level in BY_CODE[_rule.indicator].levels, f"{_rule.code}: level not offered"
    if isinstance(_rule, ThresholdRule) and _rule.clear_at is not None:
        inside = (
            _rule.clear_at < _rule.threshold
            if _rule.op == ">"
            else _rule.clear_at > _rule.threshold
        )
        assert inside, f"{_rule.code}: clear_at must be on the normal side of the threshold"

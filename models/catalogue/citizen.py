"""Citizen-feedback indicators: the 1022 hotline and the Smart Quảng Nam app."""

from __future__ import annotations

from models.catalogue.metrics import D766, pct, rep
from models.indicators import Indicator, Metric, Target

_RESOLVED = rep("reports", "resolved")
_RESOLVED_IN_PERIOD = Metric(kind="completed_in_period", rollup="citizen_report")
"""Reports (one each, from their state) resolved in the period."""

CITIZEN: tuple[Indicator, ...] = (
    Indicator(
        code="citizen.reports",
        name_vi="Số phản ánh, kiến nghị tiếp nhận",
        name_en="Citizen reports received",
        sector="citizen",
        unit="reports",
        description="Reports to the 1022 hotline and the Smart Quảng Nam app.",
        numerator=rep("reports", "received"),
        additive=True,
    ),
    Indicator(
        code="citizen.on_time_rate",
        name_vi="Tỷ lệ PAKN xử lý đúng hạn",
        name_en="Citizen requests handled on time",
        sector="citizen",
        unit="%",
        description=f"{D766}: resolved by their deadline (15 working days; 5 for "
        "infrastructure and environment, 4 hours for emergencies) ÷ resolved.",
        numerator=rep("resolved_on_time", "resolved"),
        denominator=_RESOLVED,
        factor=100,
        higher_is_better=True,
        targets=(pct(80, 90, 2025, "1022 hotline handling-rate goal (90%)"),),
    ),
    Indicator(
        code="citizen.satisfaction_rate",
        name_vi="Tỷ lệ hài lòng xử lý PAKN",
        name_en="Satisfaction with request handling",
        sector="citizen",
        unit="%",
        description=f"{D766}: (resolved − resolved late − rated 'dislike') ÷ resolved: "
        "reports resolved in the period on time and not rated 'dislike' ÷ reports resolved "
        "in the period, each counted once, its rating with the period of its resolution "
        "whenever it arrives. A report known only as rated (the resolution step lost, or "
        "before the data begins) is never counted as resolved in a period.",
        numerator=_RESOLVED_IN_PERIOD.model_copy(
            update={"filters": {"resolved_on_time": True}, "unless": {"rating": "dislike"}}
        ),
        denominator=_RESOLVED_IN_PERIOD,
        factor=100,
        higher_is_better=True,
        targets=(pct(85, 92, 2025, "Huế 1022: satisfaction above 92%"),),
    ),
    Indicator(
        code="citizen.avg_handling_hours",
        name_vi="Thời gian xử lý PAKN trung bình",
        name_en="Mean time to handle a request",
        sector="citizen",
        unit="hours",
        numerator=rep("handling_hours_sum", "resolved"),
        denominator=_RESOLVED,
        higher_is_better=False,
        targets=(
            Target(year=2025, value=5, amber_at=24, source="Bình Dương 1022: at most 5 hours"),
        ),
    ),
    Indicator(
        code="citizen.emergency_share",
        name_vi="Tỷ lệ phản ánh khẩn cấp (113/114/115)",
        name_en="Share of reports forwarded to emergency services",
        sector="citizen",
        unit="%",
        numerator=rep("reports", "received", category="emergency"),
        denominator=rep("reports", "received"),
        factor=100,
    ),
)

"""Education indicators: daily attendance and periodic school reports."""

from __future__ import annotations

from models.catalogue.metrics import QN_RES04, att, pct, sum_of
from models.indicators import Indicator

EDUCATION: tuple[Indicator, ...] = (
    Indicator(
        code="education.attendance_rate",
        name_vi="Tỷ lệ học sinh đi học",
        name_en="Pupil attendance rate",
        sector="education",
        unit="%",
        description="Pupils present ÷ pupils enrolled, over the daily attendance reports.",
        numerator=att("present_sum"),
        denominator=att("enrolled_sum"),
        factor=100,
        higher_is_better=True,
        buckets=("day", "week", "month", "quarter", "year"),
        targets=(pct(92, 97, 2025, "Quảng Nam education department: attendance above 97%"),),
    ),
    Indicator(
        code="education.pupils_present",
        name_vi="Số lượt học sinh có mặt",
        name_en="Pupils present (pupil-days)",
        sector="education",
        unit="pupil-days",
        numerator=att("present_sum"),
        additive=True,
        buckets=("day", "week", "month", "quarter", "year"),
    ),
    Indicator(
        code="education.reports_on_time",
        name_vi="Tỷ lệ báo cáo định kỳ đúng hạn",
        name_en="School reports sent on time",
        sector="education",
        unit="%",
        description="Periodic school reports sent by the due day ÷ reports received.",
        numerator=sum_of("education_report_hourly", "reports_on_time"),
        denominator=sum_of("education_report_hourly", "reports"),
        factor=100,
        higher_is_better=True,
        buckets=("week", "month", "quarter", "year"),
        targets=(pct(90, 100, 2025, f"{QN_RES04}: 100% of periodic reports connected"),),
    ),
    Indicator(
        code="education.pupils_per_teacher",
        name_vi="Số học sinh trên một giáo viên",
        name_en="Pupils per teacher",
        sector="education",
        unit="pupils",
        description="Pupils ÷ teachers, over the periodic school reports.",
        numerator=sum_of("education_report_hourly", "pupils_sum"),
        denominator=sum_of("education_report_hourly", "teachers_sum"),
        buckets=("month", "quarter", "year"),
    ),
)

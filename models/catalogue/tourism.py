"""Tourism indicators: arrivals, guest-nights, visitor feedback."""

from __future__ import annotations

from models.catalogue.metrics import arr, fb, pct
from models.indicators import Indicator

TOURISM: tuple[Indicator, ...] = (
    Indicator(
        code="tourism.visitors",
        name_vi="Lượt khách du lịch",
        name_en="Visitors served",
        sector="tourism",
        unit="visitors",
        description="Visitors at sites and lodgings (ticket scans and check-ins).",
        numerator=arr(),
        additive=True,
    ),
    Indicator(
        code="tourism.international_share",
        name_vi="Tỷ lệ khách quốc tế",
        name_en="Share of international visitors",
        sector="tourism",
        unit="%",
        numerator=arr(international=True),
        denominator=arr(),
        factor=100,
        higher_is_better=True,
    ),
    Indicator(
        code="tourism.guest_nights",
        name_vi="Số ngày khách lưu trú",
        name_en="Guest-nights booked",
        sector="tourism",
        unit="guest-nights",
        description="Visitors × nights at lodging check-ins.",
        numerator=arr("guest_nights_sum", kind="lodging_checkin"),
        additive=True,
    ),
    Indicator(
        code="tourism.positive_feedback_share",
        name_vi="Tỷ lệ phản hồi tích cực",
        name_en="Positive visitor feedback",
        sector="tourism",
        unit="%",
        description="Feedback with a positive sentiment score ÷ feedback.",
        numerator=fb("positive"),
        denominator=fb(),
        factor=100,
        higher_is_better=True,
        targets=(pct(70, 80, 2025, "Quảng Nam smart-tourism pilot (seed 002)"),),
    ),
    Indicator(
        code="tourism.mean_sentiment",
        name_vi="Điểm cảm xúc trung bình",
        name_en="Mean feedback sentiment (−1 … +1)",
        sector="tourism",
        unit="score",
        numerator=fb("sentiment_sum"),
        denominator=fb(),
        higher_is_better=True,
    ),
)

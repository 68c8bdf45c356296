"""Data-quality indicators of the IOC itself: complete and live data (1709/BKHCN-CĐSQG)."""

from __future__ import annotations

from models.catalogue.metrics import pct
from models.indicators import Indicator, Metric

DATA_QUALITY: tuple[Indicator, ...] = (
    Indicator(
        code="data.completeness",
        name_vi="Tỷ lệ dữ liệu đầy đủ",
        name_en="Data completeness (received ÷ expected)",
        sector="data",
        unit="%",
        description="Events received from the sources located in the unit ÷ events the "
        "source registry expects in their reporting hours ('đủ' of 1709/BKHCN-CĐSQG).",
        numerator=Metric(kind="received_events"),
        denominator=Metric(kind="expected_events"),
        factor=100,
        higher_is_better=True,
        open_data=False,
        targets=(pct(90, 98, 2025, "Guidance 1709/BKHCN-CĐSQG: data complete and live"),),
    ),
    Indicator(
        code="data.on_time_share",
        name_vi="Tỷ lệ dữ liệu gửi kịp thời",
        name_en="Data delivered on time",
        sector="data",
        unit="%",
        description="Events stored within an hour of happening ÷ events received "
        "('sống' of 1709/BKHCN-CĐSQG).",
        numerator=Metric(kind="on_time_events"),
        denominator=Metric(kind="received_events"),
        factor=100,
        higher_is_better=True,
        open_data=False,
        targets=(pct(90, 98, 2025, "Guidance 1709/BKHCN-CĐSQG: data complete and live"),),
    ),
)

"""Data-quality indicators of the IOC itself: complete and live data (1709/BKHCN-CĐSQG)."""

from __future__ import annotations

from models.catalogue.metrics import pct
from models.events import HEALTH_BED_CENSUS
from models.indicators import Indicator, Metric

DATA_QUALITY: tuple[Indicator, ...] = (
    Indicator(
        code="data.completeness",
        name_vi="Tỷ lệ dữ liệu đầy đủ",
        name_en="Data completeness (reporting slots arrived)",
        sector="data",
        unit="%",
        description="Reporting slots owed by the sources located in the unit (per each "
        "source's cadence: a hospital's every hour, a school's school day, a desk's working "
        "day…) in which data arrived ÷ those slots due so far; at most 100% "
        "('đủ' of 1709/BKHCN-CĐSQG).",
        numerator=Metric(kind="received_slots"),
        denominator=Metric(kind="expected_slots"),
        factor=100,
        higher_is_better=True,
        open_data=False,
        targets=(pct(90, 98, 2025, "Guidance 1709/BKHCN-CĐSQG: data complete and live"),),
    ),
    Indicator(
        code="data.hospital_feed_completeness",
        name_vi="Tỷ lệ báo cáo giường bệnh hằng giờ đầy đủ",
        name_en="Hospital feeds: hourly bed-census reports arrived",
        sector="data",
        unit="%",
        description="Hours in which the hospital information systems located in the unit "
        "owed their bed census and sent data ÷ those hours due so far: data.completeness "
        "of the hospitals' feeds alone, which a district's many schools and desks do not "
        "drown out.",
        numerator=Metric(kind="received_slots", stream=HEALTH_BED_CENSUS.type),
        denominator=Metric(kind="expected_slots", stream=HEALTH_BED_CENSUS.type),
        factor=100,
        higher_is_better=True,
        open_data=False,
    ),
    Indicator(
        code="data.volume_ratio",
        name_vi="Tỷ lệ lượng dữ liệu nhận so với dự kiến",
        name_en="Data volume received ÷ expected",
        sector="data",
        unit="%",
        description="Events received from the sources located in the unit ÷ events the "
        "source registry expects in their reporting hours on a normal day. Follows the "
        "seasons (tourism's low season reads under 100%, a flood month's clinics over), so "
        "it may exceed 100%; a feed's health is data.completeness.",
        numerator=Metric(kind="received_events"),
        denominator=Metric(kind="expected_events"),
        factor=100,
        open_data=False,
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

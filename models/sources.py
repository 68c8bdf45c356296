"""The registry of source systems: who sends what, from where, and how often.

It is what makes "expected vs received" computable: a source that reports every hour
between 07:00 and 17:00 on weekdays and sent nothing since 09:00 is late, not quiet.
``source`` codes are the CloudEvents ``source`` attribute (``<system>/<facility>``), and the
simulators take their senders from here, so every simulated event comes from a registered
source. The facilities are the province's real kinds (district health centres, the
provincial hospitals, a preschool / primary / lower-secondary school per commune and upper
secondary schools per district, the main tourist sites and lodging areas, one-stop desks
at every level, the 1022 hotline and its channels); names of individual schools and desks
are generated from the commune they serve. ``expected_per_hour`` is the normal-day
baseline, in line with the simulators' volumes (see each stream's module docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from models.units import MOUNTAIN_DISTRICTS, PROVINCE_CODE, communes, legacy_units

ALL_WEEK = (0, 1, 2, 3, 4, 5, 6)
WORK_WEEK = (0, 1, 2, 3, 4)
OFFICE_HOURS = (7, 17)


@dataclass(frozen=True, slots=True)
class SourceSystem:
    code: str
    name: str
    sector: str
    event_types: tuple[str, ...]
    commune_code: str
    reporting_hours: tuple[int, int] = (0, 24)
    """Local hours ``[start, end)`` in which the source is expected to report."""
    reporting_weekdays: tuple[int, ...] = ALL_WEEK
    """Monday = 0."""
    expected_per_hour: float = 1.0
    """Events expected in one reporting hour, on a normal day (the completeness baseline)."""
    kind: str = ""
    """What the facility is: ``district_health_centre``, ``primary``, ``site``, ``commune_desk``…"""
    capacity: int = 0
    """Beds (hospitals), enrolled pupils (schools), 0 where it means nothing."""


# Provincial hospitals: (code, name, commune, beds).
PROVINCIAL_HOSPITALS = (
    ("BVDK-QN", "Bệnh viện Đa khoa tỉnh Quảng Nam", "20335", 1_000),
    ("BVTW-QN", "Bệnh viện Đa khoa Trung ương Quảng Nam", "20989", 800),
    ("BVDKKV-MNPB", "Bệnh viện Đa khoa khu vực miền núi phía Bắc Quảng Nam", "20695", 250),
)
# Tourist sites with ticketing: (code, name, commune, daily visitors on an average day).
TOURIST_SITES = (
    ("PHOCO-HOIAN", "Đô thị cổ Hội An", "20398", 9_000),
    ("MYSON", "Khu đền tháp Mỹ Sơn", "20605", 1_100),
    ("CULAOCHAM", "Khu dự trữ sinh quyển Cù Lao Chàm", "20434", 1_200),
    ("RUNGDUA-BAYMAU", "Rừng dừa Bảy Mẫu", "20431", 1_500),
    ("TAMTHANH", "Làng bích họa Tam Thanh", "20359", 300),
    ("HO-PHUNINH", "Hồ Phú Ninh", "20386", 250),
)
# Lodging areas reporting check-ins: (code, name, commune, guests checking in per day).
LODGING_AREAS = (
    ("HOIAN-CENTRE", "Cơ sở lưu trú trung tâm Hội An", "20398", 2_600),
    ("HOIAN-CUADAI", "Cơ sở lưu trú Cửa Đại", "20416", 1_400),
    ("HOIAN-CAMAN", "Cơ sở lưu trú An Bàng - Cẩm An", "20419", 900),
    ("DIENBAN-BIEN", "Khu nghỉ dưỡng ven biển Điện Dương - Điện Ngọc", "20581", 1_300),
    ("TAMKY", "Cơ sở lưu trú Tam Kỳ", "20335", 500),
    ("NUITHANH-TAMHAI", "Cơ sở lưu trú Tam Hải", "20992", 150),
    ("DUYHAI", "Cơ sở lưu trú Duy Hải", "20638", 120),
    ("DONGGIANG-PRAO", "Cơ sở lưu trú Prao", "20467", 60),
    ("NAMTRAMY", "Cơ sở lưu trú Trà Linh", "20950", 30),
)
HOTLINE_CHANNELS = (
    ("hotline/1022-QN", "Tổng đài 1022 Quảng Nam", "call_1022"),
    ("app/SMARTQUANGNAM", "Ứng dụng Smart Quảng Nam", "app"),
    ("zalo/OA-1022-QN", "Zalo OA 1022 Quảng Nam", "zalo"),
    ("web/PAKN-QN", "Cổng phản ánh kiến nghị Quảng Nam", "web"),
)
PROVINCE_DESK = "motcua/TTHCC-QN"
SCHOOL_KINDS = (
    ("MN", "preschool", "Trường Mầm non"),
    ("TH", "primary", "Trường Tiểu học"),
    ("THCS", "lower_secondary", "Trường THCS"),
)
PUPILS_PER_PERSON = {"preschool": 0.045, "primary": 0.085, "lower_secondary": 0.065}
"""Enrolment per inhabitant of the commune served (Quảng Nam 2019: ~1.5 m people,
~330 k pupils in general education and ~70 k in preschools)."""
UPPER_SECONDARY_PER_PERSON = 0.045


def _t(sector: str, kind: str) -> str:
    from models.events import TYPE_PREFIX

    return f"{TYPE_PREFIX}.{sector}.{kind}"


def _district_seat(district: str) -> str:
    """The commune hosting a district's institutions: its first township or ward, else the
    first commune."""
    members = [u for u in communes() if u.parent_code == district]
    towns = [u for u in members if u.name.lower().startswith(("thị trấn", "phường"))]
    return (towns or members)[0].code


def health_sources() -> list[SourceSystem]:
    districts = [u for u in legacy_units(PROVINCE_CODE) if u.level == "district"]
    facilities = [
        (
            f"TTYT-{d.code}",
            f"Trung tâm Y tế {d.name}",
            _district_seat(d.code),
            "district_health_centre",
            max(60, (d.population or 0) // 900),
        )
        for d in districts
    ]
    facilities += [
        (c, n, commune, "provincial_hospital", b) for c, n, commune, b in PROVINCIAL_HOSPITALS
    ]
    out = []
    for code, name, commune, kind, beds in facilities:
        per_hour = 3.0 + beds / 40
        out.append(
            SourceSystem(
                f"his/{code}",
                name,
                "health",
                (_t("health", "encounter"), _t("health", "bed_census")),
                commune,
                expected_per_hour=per_hour,
                kind=kind,
                capacity=beds,
            )
        )
        out.append(
            SourceSystem(
                f"bhyt/{code}",
                f"Giám định BHYT điện tử — {name}",
                "health",
                (_t("health", "claim"),),
                commune,
                expected_per_hour=per_hour * 0.8,
                kind=kind,
            )
        )
    return out


def education_sources() -> list[SourceSystem]:
    types = (_t("education", "attendance"), _t("education", "report"))
    out = []
    for unit in communes():
        for prefix, level, label in SCHOOL_KINDS:
            out.append(
                SourceSystem(
                    f"school/{prefix}-{unit.code}",
                    f"{label} {unit.name}",
                    "education",
                    types,
                    unit.code,
                    reporting_hours=(7, 11),
                    reporting_weekdays=WORK_WEEK,
                    expected_per_hour=1.0 if level == "preschool" else 1.2,
                    kind=level,
                    capacity=round((unit.population or 0) * PUPILS_PER_PERSON[level]),
                )
            )
    for district in (u for u in legacy_units(PROVINCE_CODE) if u.level == "district"):
        n = 1 if district.code in MOUNTAIN_DISTRICTS else 2
        pupils = round((district.population or 0) * UPPER_SECONDARY_PER_PERSON / n)
        seat = _district_seat(district.code)
        for i in range(1, n + 1):
            out.append(
                SourceSystem(
                    f"school/THPT-{district.code}-{i}",
                    f"Trường THPT số {i} {district.name}",
                    "education",
                    types,
                    seat,
                    reporting_hours=(7, 11),
                    reporting_weekdays=WORK_WEEK,
                    expected_per_hour=0.75,
                    kind="upper_secondary",
                    capacity=pupils,
                )
            )
    return out


def tourism_sources() -> list[SourceSystem]:
    arrival = (_t("tourism", "arrival"),)
    out = [
        SourceSystem(
            f"tourism/{code}",
            name,
            "tourism",
            arrival,
            commune,
            reporting_hours=(7, 22),
            expected_per_hour=daily / 3.2 / 15,
            kind="site",
            capacity=daily,
        )
        for code, name, commune, daily in TOURIST_SITES
    ]
    out += [
        SourceSystem(
            f"lodging/{code}",
            name,
            "tourism",
            arrival,
            commune,
            reporting_hours=(11, 23),
            expected_per_hour=daily / 2.4 / 12,
            kind="lodging",
            capacity=daily,
        )
        for code, name, commune, daily in LODGING_AREAS
    ]
    out.append(
        SourceSystem(
            "feedback/SMARTTOUR-QN",
            "Phân tích phản hồi du lịch thông minh Quảng Nam",
            "tourism",
            (_t("tourism", "feedback"),),
            "20398",
            expected_per_hour=8.0,
            kind="feedback",
        )
    )
    return out


def public_service_sources() -> list[SourceSystem]:
    dossier = (_t("public_service", "dossier"),)
    out = [
        SourceSystem(
            f"motcua/UBX-{u.code}",
            f"Bộ phận một cửa UBND {u.name}",
            "public_service",
            dossier,
            u.code,
            reporting_hours=OFFICE_HOURS,
            reporting_weekdays=WORK_WEEK,
            expected_per_hour=max(0.5, (u.population or 0) / 15_000),
            kind="commune_desk",
        )
        for u in communes()
    ]
    out += [
        SourceSystem(
            f"motcua/UBH-{d.code}",
            f"Bộ phận một cửa UBND {d.name}",
            "public_service",
            dossier,
            _district_seat(d.code),
            reporting_hours=OFFICE_HOURS,
            reporting_weekdays=WORK_WEEK,
            expected_per_hour=max(1.0, (d.population or 0) / 25_000),
            kind="district_desk",
        )
        for d in legacy_units(PROVINCE_CODE)
        if d.level == "district"
    ]
    out.append(
        SourceSystem(
            PROVINCE_DESK,
            "Trung tâm Phục vụ hành chính công tỉnh Quảng Nam",
            "public_service",
            dossier,
            "20335",
            reporting_hours=OFFICE_HOURS,
            reporting_weekdays=WORK_WEEK,
            expected_per_hour=60.0,
            kind="province_desk",
        )
    )
    return out


def citizen_sources() -> list[SourceSystem]:
    share = {"call_1022": 0.5, "app": 0.25, "zalo": 0.15, "web": 0.1}
    return [
        SourceSystem(
            code,
            name,
            "citizen",
            (_t("citizen", "report"),),
            "20335",
            expected_per_hour=12.0 * share[channel],
            kind=channel,
        )
        for code, name, channel in HOTLINE_CHANNELS
    ]


@cache
def source_registry() -> tuple[SourceSystem, ...]:
    """Every source system of the province, all sectors."""
    return tuple(
        health_sources()
        + education_sources()
        + tourism_sources()
        + public_service_sources()
        + citizen_sources()
    )


def sources_by_code() -> dict[str, SourceSystem]:
    return {s.code: s for s in source_registry()}


def sources_of(sector: str, kind: str | None = None) -> tuple[SourceSystem, ...]:
    return tuple(
        s for s in source_registry() if s.sector == sector and (kind is None or s.kind == kind)
    )

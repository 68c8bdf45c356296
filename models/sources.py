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
baseline, in line with the simulators' volumes (see each stream's module docstring) and
checked against a simulated March week by ``tests/test_simulators.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

from models import events as ev
from models.calendar import FIRST_YEAR, LAST_YEAR, is_school_day, is_working_day
from models.registry import Registry
from models.sectors import CITIZEN, EDUCATION, HEALTH, PUBLIC_SERVICE, TOURISM
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
    hourly_profile: tuple[float, ...] = ()
    """24 relative weights by local hour (empty: flat). A clinic's day is not flat: with a
    flat baseline, completeness reads 130% at noon and 60% at night for a healthy feed."""
    weekday_profile: tuple[float, ...] = ()
    """7 relative weights, Monday first (empty: flat)."""
    cadence: Literal["auto", "hour", "day"] = "auto"
    """How often it owes a report (``models.cadence``): ``hour`` (a hospital's hourly bed
    census), ``day`` (a school's morning attendance), or ``auto``: the finest slot (hour,
    day, week) in which its event volume makes silence meaningful."""
    calendar: Literal["every_day", "office", "school"] = "every_day"
    """Which days it works: every day, working days (no weekend, public holiday or Tết
    break), or school days (term time, no Tết school break)."""
    season_low: float = 1.0
    """Its lowest seasonal volume relative to ``expected_per_hour`` (tourism's low season):
    a slot is only owed where even the low season fills it."""
    reports_per_hour: float = 0.0
    """Of ``expected_per_hour``, the reports that come whatever the volume (a bed census, a
    grade's attendance record): a volume scale leaves them be."""

    def at_scale(self, factor: float) -> SourceSystem:
        """The same source at ``factor`` times the province's volume: its reports still come,
        its other events are ``factor`` as many (so its owed slots follow what it sends)."""
        if factor == 1:
            return self
        rest = self.expected_per_hour - self.reports_per_hour
        return replace(self, expected_per_hour=round(self.reports_per_hour + rest * factor, 4))

    def hour_weight(self, hour: int) -> float:
        """Weight of a local hour, scaled so the reporting hours average 1."""
        return _scaled(self.hourly_profile, range(*self.reporting_hours), hour)

    def day_weight(self, weekday: int) -> float:
        """Weight of a weekday, scaled so the reporting weekdays average 1."""
        return _scaled(self.weekday_profile, self.reporting_weekdays, weekday)

    def reports_on(self, day: dt.date) -> bool:
        """Is ``day`` one of its reporting days (weekday, and its calendar's working day)?"""
        if day.weekday() not in self.reporting_weekdays:
            return False
        if self.calendar == "every_day" or not FIRST_YEAR <= day.year <= LAST_YEAR:
            return True
        return is_school_day(day) if self.calendar == "school" else is_working_day(day)


def _scaled(profile: tuple[float, ...], active: Iterable[int], index: int) -> float:
    if not profile:
        return 1.0
    chosen = [profile[i] for i in active]
    mean = sum(chosen) / len(chosen)
    return profile[index] / mean if mean else 0.0


CLINIC_HOURS = (
    0, 0, 0, 0, 0, 0, 0.02, 0.14, 0.18, 0.16, 0.12, 0.06,
    0.03, 0.08, 0.10, 0.08, 0.03, 0, 0, 0, 0, 0, 0, 0,
)  # fmt: skip
"""Share of a clinic day's outpatients arriving in each local hour: morning peak, lunch dip."""
CLINIC_WEEKDAYS = (1.08, 1.0, 1.0, 1.0, 0.97, 0.45, 0.0)
"""Clinic load by weekday, Monday first: half a day on Saturday, closed on Sunday."""
SITE_HOURS = (0,) * 7 + (0.5, 0.9, 1, 1, 0.8, 0.6, 0.6, 0.8, 1, 1.1, 1.3, 1.5, 1.5, 1.2, 0.6, 0, 0)
"""Ticket scans at a tourist site by local hour (07:00–22:00, the old town's evening peak)."""
LODGING_HOURS = (0,) * 11 + (0.4, 0.8, 1.2, 1.5, 1.5, 1.3, 1.0, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1)
"""Lodging check-ins by local hour (11:00–23:00)."""
TOURISM_LOW_SEASON = 0.45
"""Arrivals in the low season's quietest weekday against the yearly mean (the flood months at
0.55 of the mean, midweek at 0.85)."""
CALL_HOURS = (0,) * 6 + (0.4, 0.9, 1, 1, 1, 0.8, 0.6, 0.8, 1, 1, 0.9, 0.8, 0.6, 0.5, 0.4, 0.3, 0, 0)
"""Calls to the 1022 hotline by local hour (06:00–22:00)."""
EMERGENCY_SHARE = 0.07
"""Share of encounters that are emergencies, which come at any hour of any day."""


def his_profiles(
    encounters_per_hour: float, census_per_hour: float, emergency_share: float
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(hour, weekday) profiles of a HIS feed: clinic arrivals, round-the-clock
    emergencies and an hourly bed census, in the proportions the hospital sees."""
    clinic = encounters_per_hour * (1 - emergency_share)
    flat = encounters_per_hour * emergency_share + census_per_hour
    hours = tuple(round(clinic * 24 * share + flat, 4) for share in CLINIC_HOURS)
    mean_day = sum(CLINIC_WEEKDAYS) / 7
    days = tuple(round(clinic * factor / mean_day + flat, 4) for factor in CLINIC_WEEKDAYS)
    return hours, days


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
GRADES = {
    "preschool": (0,),
    "primary": (1, 2, 3, 4, 5),
    "lower_secondary": (6, 7, 8, 9),
    "upper_secondary": (10, 11, 12),
}


def _district_seat(district: str) -> str:
    """The commune hosting a district's institutions: its first township or ward, else the
    first commune."""
    members = [u for u in communes() if u.parent_code == district]
    towns = [u for u in members if u.name.lower().startswith(("thị trấn", "phường"))]
    return (towns or members)[0].code


REFERRAL_HOSPITAL = {"504": "BVDKKV-MNPB", "505": "BVDKKV-MNPB", "510": "BVDKKV-MNPB"}
REFERRAL_HOSPITAL |= {"515": "BVTW-QN", "516": "BVTW-QN", "517": "BVTW-QN"}
"""Where a district's referred emergencies and admissions go; the rest go to BVDK-QN."""
ENCOUNTERS_PER_DAY = 9_500
WEEKLY_CLINIC_FACTOR = 0.8
"""Mean of the clinics' weekday factors (full Monday–Friday, half Saturday, closed Sunday):
a health source reports all week, so its hourly baseline is the week's mean."""
REFERRED_SHARE = 0.15 * 0.35
"""Emergencies and admissions (15% of encounters) of which 35% go to a provincial hospital."""
INSURED_SHARE = 0.91


def health_sources() -> list[SourceSystem]:
    districts = [u for u in legacy_units(PROVINCE_CODE) if u.level == "district"]
    province = sum(d.population or 0 for d in districts)
    catchment: dict[str, float] = {}
    for d in districts:
        hospital = REFERRAL_HOSPITAL.get(d.code, "BVDK-QN")
        catchment[hospital] = catchment.get(hospital, 0) + (d.population or 0) / province
    facilities = [
        (
            f"TTYT-{d.code}",
            f"Trung tâm Y tế {d.name}",
            _district_seat(d.code),
            "district_health_centre",
            max(60, (d.population or 0) // 900),
            ENCOUNTERS_PER_DAY
            * WEEKLY_CLINIC_FACTOR
            * (1 - REFERRED_SHARE)
            * (d.population or 0)
            / province
            / 24,
        )
        for d in districts
    ]
    # Referred patients: emergencies round the clock, admissions on clinic days.
    referred_per_hour = ENCOUNTERS_PER_DAY * REFERRED_SHARE * 0.85 / 24
    facilities += [
        (c, n, commune, "provincial_hospital", b, referred_per_hour * catchment[c])
        for c, n, commune, b in PROVINCIAL_HOSPITALS
    ]
    out = []
    for code, name, commune, kind, beds, encounters_per_hour in facilities:
        # Provincial hospitals see referrals: emergencies are 7 of their 15 points.
        emergencies = EMERGENCY_SHARE / 0.15 if kind == "provincial_hospital" else EMERGENCY_SHARE
        hours, days = his_profiles(encounters_per_hour, 1.0, emergencies)
        claim_hours, claim_days = his_profiles(encounters_per_hour, 0.0, emergencies)
        out.append(
            SourceSystem(
                f"his/{code}",
                name,
                HEALTH,
                (ev.HEALTH_ENCOUNTER.type, ev.HEALTH_BED_CENSUS.type),
                commune,
                expected_per_hour=round(encounters_per_hour + 1, 2),  # + the hourly census
                reports_per_hour=1.0,
                kind=kind,
                capacity=beds,
                cadence="hour",  # the bed census comes every hour, day and night
                hourly_profile=hours,
                weekday_profile=days,
            )
        )
        out.append(
            SourceSystem(
                f"bhyt/{code}",
                f"Giám định BHYT điện tử — {name}",
                HEALTH,
                (ev.HEALTH_CLAIM.type,),
                commune,
                expected_per_hour=round(encounters_per_hour * INSURED_SHARE, 2),
                kind=kind,
                hourly_profile=claim_hours,  # a claim leaves within the hour of its visit
                weekday_profile=claim_days,
            )
        )
    return out


def education_sources() -> list[SourceSystem]:
    types = (ev.EDUCATION_ATTENDANCE.type, ev.EDUCATION_REPORT.type)
    out = []
    for unit in communes():
        for prefix, level, label in SCHOOL_KINDS:
            out.append(
                SourceSystem(
                    f"school/{prefix}-{unit.code}",
                    f"{label} {unit.name}",
                    EDUCATION,
                    types,
                    unit.code,
                    reporting_hours=(7, 11),
                    reporting_weekdays=WORK_WEEK,
                    expected_per_hour=len(GRADES[level]) / 4,  # a record per grade, 4 h
                    reports_per_hour=len(GRADES[level]) / 4,
                    kind=level,
                    cadence="day",
                    calendar="school",
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
                    EDUCATION,
                    types,
                    seat,
                    reporting_hours=(7, 11),
                    reporting_weekdays=WORK_WEEK,
                    expected_per_hour=len(GRADES["upper_secondary"]) / 4,
                    reports_per_hour=len(GRADES["upper_secondary"]) / 4,
                    kind="upper_secondary",
                    cadence="day",
                    calendar="school",
                    capacity=pupils,
                )
            )
    return out


def tourism_sources() -> list[SourceSystem]:
    arrival = (ev.TOURISM_ARRIVAL.type,)
    out = [
        SourceSystem(
            f"tourism/{code}",
            name,
            TOURISM,
            arrival,
            commune,
            reporting_hours=(7, 22),
            expected_per_hour=round(daily / 3.2 / 15 * 1.2, 2),
            kind="site",
            capacity=daily,
            hourly_profile=SITE_HOURS,
            season_low=TOURISM_LOW_SEASON,
        )
        for code, name, commune, daily in TOURIST_SITES
    ]
    out += [
        SourceSystem(
            f"lodging/{code}",
            name,
            TOURISM,
            arrival,
            commune,
            reporting_hours=(11, 23),
            expected_per_hour=round(daily / 2.4 / 12 * 1.18, 2),
            kind="lodging",
            capacity=daily,
            hourly_profile=LODGING_HOURS,
            season_low=TOURISM_LOW_SEASON,
        )
        for code, name, commune, daily in LODGING_AREAS
    ]
    # Feedback follows the parties arriving (one in 25 leaves some), hour by hour.
    parties = [(s.capacity / (3.2 if s.kind == "site" else 2.4), s.hourly_profile) for s in out]
    feedback_hours = tuple(round(sum(n * p[h] / sum(p) for n, p in parties), 3) for h in range(24))
    out.append(
        SourceSystem(
            "feedback/SMARTTOUR-QN",
            "Phân tích phản hồi du lịch thông minh Quảng Nam",
            TOURISM,
            (ev.TOURISM_FEEDBACK.type,),
            "20398",
            reporting_hours=(7, 24),
            expected_per_hour=round(14.6 * 24 / 17, 2),
            kind="feedback",
            hourly_profile=feedback_hours,
            season_low=TOURISM_LOW_SEASON,
        )
    )
    return out


def public_service_sources() -> list[SourceSystem]:
    dossier = (ev.PUBLIC_SERVICE_DOSSIER.type,)
    out = [
        SourceSystem(
            f"motcua/UBX-{u.code}",
            f"Bộ phận một cửa UBND {u.name}",
            PUBLIC_SERVICE,
            dossier,
            u.code,
            reporting_hours=OFFICE_HOURS,
            reporting_weekdays=WORK_WEEK,
            expected_per_hour=round(max(0.1, (u.population or 0) / 7_800), 2),
            kind="commune_desk",
            calendar="office",
        )
        for u in communes()
    ]
    out += [
        SourceSystem(
            f"motcua/UBH-{d.code}",
            f"Bộ phận một cửa UBND {d.name}",
            PUBLIC_SERVICE,
            dossier,
            _district_seat(d.code),
            reporting_hours=OFFICE_HOURS,
            reporting_weekdays=WORK_WEEK,
            expected_per_hour=round((d.population or 0) / 10_800, 2),
            kind="district_desk",
            calendar="office",
        )
        for d in legacy_units(PROVINCE_CODE)
        if d.level == "district"
    ]
    out.append(
        SourceSystem(
            PROVINCE_DESK,
            "Trung tâm Phục vụ hành chính công tỉnh Quảng Nam",
            PUBLIC_SERVICE,
            dossier,
            "20335",
            reporting_hours=OFFICE_HOURS,
            reporting_weekdays=WORK_WEEK,
            expected_per_hour=114.0,
            kind="province_desk",
            calendar="office",
        )
    )
    return out


def citizen_sources() -> list[SourceSystem]:
    # Lifecycle events per reporting hour (received, assigned, resolved, rated ≈ 3.5 each).
    share = {"call_1022": 9.4, "app": 3.5, "zalo": 2.4, "web": 1.7}
    return [
        SourceSystem(
            code,
            name,
            CITIZEN,
            (ev.CITIZEN_REPORT.type,),
            "20335",
            expected_per_hour=share[channel],
            kind=channel,
            # Calls come 06:00–22:00; the follow-ups of every channel at any hour.
            hourly_profile=tuple(0.5 + 12 * w / sum(CALL_HOURS) for w in CALL_HOURS)
            if channel == "call_1022"
            else (),
        )
        for code, name, channel in HOTLINE_CHANNELS
    ]


SourceFamily = Callable[[], Iterable[SourceSystem]]

SOURCE_FAMILIES: Registry[SourceFamily] = Registry("source family")
"""Name → a function listing that family's source systems (a sector's, usually)."""


def register_sources(name: str, family: SourceFamily) -> SourceFamily:
    """Declare a family of source systems: events from them are accepted, their cadence is
    owed and counted in completeness, ``/sources`` lists them."""
    return SOURCE_FAMILIES.add(name, family)


register_sources(HEALTH, health_sources)
register_sources(EDUCATION, education_sources)
register_sources(TOURISM, tourism_sources)
register_sources(PUBLIC_SERVICE, public_service_sources)
register_sources(CITIZEN, citizen_sources)


def source_registry(volume_scale: float = 1.0) -> tuple[SourceSystem, ...]:
    """Every source system of the province, all families, expecting the volume
    ``volume_scale`` against the province's (1): a deployment's ``IOC_VOLUME_SCALE``
    (``Settings.volume_scale``), what a simulated feed run with ``--scale`` sends, so a
    scaled feed owes the slots it fills. Which sources there are, their codes, kinds and
    places do not depend on it."""
    if not volume_scale > 0:
        raise ValueError(f"a volume scale is positive, not {volume_scale}")
    return _listed(tuple(SOURCE_FAMILIES.values()), volume_scale)


@cache
def _listed(families: tuple[SourceFamily, ...], scale: float) -> tuple[SourceSystem, ...]:
    return tuple(source.at_scale(scale) for family in families for source in family())


def sources_by_code() -> dict[str, SourceSystem]:
    """The sources by code, at the province's volume (their codes, kinds and places)."""
    return {s.code: s for s in source_registry()}


def sources_of(sector: str, kind: str | None = None) -> tuple[SourceSystem, ...]:
    return tuple(
        s for s in source_registry() if s.sector == sector and (kind is None or s.kind == kind)
    )

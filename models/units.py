"""Administrative units of Quảng Nam as the ``vietnamadminunits`` package ships them.

The package's SQLite dataset holds the legacy (pre-July-2025) three-level units with GSO
codes and coordinates, the 2025 two-level units, and a legacy → 2025 converter; we read them
directly rather than through its parser, which is built for address strings. Note: the
legacy dataset reflects the 2024 merges (17 district-level units, 233 communes; Nông Sơn was
merged into Quế Sơn), not the 18 / 244 of 2020.

Populations. District totals are the 2019 Population and Housing Census (GSO, census day
1 April 2019) figures per district-level unit, as tabulated on citypopulation.de ("Vietnam:
Administrative Division", provinces and districts, last census) and the district articles
of Vietnamese Wikipedia; they were transcribed by hand and not re-verified row by row, so
treat them as ±2% (they sum to 1,510,278, within 0.1% of the 1,510,960 that a public
GSO-derived province table lists for Quảng Nam). Quế Sơn's figure includes Nông Sơn's.
Communes get a share of their district by a documented rule, not a census figure:
weights 1.6 for an urban ward (phường), 1.3 for a township (thị trấn) and 1.0 for a rural
commune (xã), rounded so that the communes add up exactly to the district.

Since 1 July 2025 Quảng Nam is part of Đà Nẵng city (code 48) and has no districts. The
2025 hierarchy here is the city and those of its new communes that cover former Quảng
Nam; each legacy commune maps to the one new commune the package marks as its default
(a few legacy communes were split), and a new commune's population is the sum of the
legacy communes mapped to it. The city's population is the sum of those communes: the
former Quảng Nam part of the city that this product covers, not the whole of Đà Nẵng.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROVINCE_CODE = "49"
HIERARCHY_2020 = "2020"
HIERARCHY_2025 = "2025"
CITY_2025_CODE = "48"
CITY_2025_KEY = "thanhphodanang"
REFORM_DAY = dt.date(2025, 7, 1)
"""The two-level local government took effect on this day (Resolution 202/2025/QH15)."""
LEGACY_DAY = dt.date(2025, 1, 1)
"""The legacy hierarchy as shipped took effect on this day: Quảng Nam's 2023–2025 unit
arrangement (Resolution 1285/NQ-UBTVQH15 of 14 November 2024) merged Nông Sơn into Quế Sơn
and regrouped communes from 1 January 2025."""
HIERARCHY_NAMES: dict[str, str] = {
    LEGACY_DAY.isoformat(): HIERARCHY_2020,
    REFORM_DAY.isoformat(): HIERARCHY_2025,
}
"""Hierarchies by the date they took effect → the stored id (``2020`` / ``2025``, still
accepted as aliases: the legacy one was long called "2020" though it has the 2025-01-01
merges)."""

HIERARCHY_LEVELS: dict[str, tuple[str, ...]] = {
    HIERARCHY_2020: ("province", "district", "commune"),
    HIERARCHY_2025: ("province", "commune"),
}
"""The levels each stored hierarchy has: the two-level local government has no districts."""


def hierarchy_on(day: dt.date) -> str:
    """The stored id of the hierarchy in force on ``day`` (the legacy one before 2025-07-01,
    also for days before it took effect: it is the oldest one shipped)."""
    return HIERARCHY_2025 if day >= REFORM_DAY else HIERARCHY_2020


DISTRICT_POPULATION_2019: dict[str, int] = {
    "502": 122_374,  # Tam Kỳ
    "503": 98_599,  # Hội An
    "504": 20_100,  # Tây Giang
    "505": 25_400,  # Đông Giang
    "506": 148_964,  # Đại Lộc
    "507": 225_317,  # Điện Bàn
    "508": 123_603,  # Duy Xuyên
    "509": 81_574 + 31_522,  # Quế Sơn + Nông Sơn (merged 2024)
    "510": 26_300,  # Nam Giang
    "511": 25_300,  # Phước Sơn
    "512": 38_300,  # Hiệp Đức
    "513": 178_027,  # Thăng Bình
    "514": 68_900,  # Tiên Phước
    "515": 41_000,  # Bắc Trà My
    "516": 30_400,  # Nam Trà My
    "517": 145_558,  # Núi Thành
    "518": 79_040,  # Phú Ninh
}

MOUNTAIN_DISTRICTS = frozenset({"504", "505", "510", "511", "512", "514", "515", "516"})
"""Tây Giang, Đông Giang, Nam Giang, Phước Sơn, Hiệp Đức, Tiên Phước, Bắc Trà My, Nam Trà My:
the province's mountainous (region-1) districts, with few smartphones and online dossiers."""

_WARD_TYPE_WEIGHT = {"Phường": 1.6, "Thị trấn": 1.3, "Xã": 1.0}


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    level: str  # province | district | commune
    parent_code: str | None
    lat: float | None
    lon: float | None
    population: int | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    """Last day the unit existed (inclusive); ``None`` while it still does."""


def _data_dir() -> Path:
    import vietnamadminunits

    return Path(vietnamadminunits.__file__).parent / "data"


def _dataset() -> Path:
    return _data_dir() / "dataset.db"


def _query(sql: str, *params: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{_dataset()}?mode=ro", uri=True) as conn:
        return conn.execute(sql, params).fetchall()


def spread(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, largest remainders first: sums exactly."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    shares = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


@cache
def legacy_units(province_code: str = PROVINCE_CODE) -> tuple[Unit, ...]:
    """Province, districts and communes of one province in the legacy hierarchy."""
    rows = _query(
        "SELECT province, provinceLat, provinceLon, district, districtCode, districtLat,"
        " districtLon, ward, wardCode, wardLat, wardLon, wardType FROM admin_units_legacy"
        " WHERE provinceCode = ? ORDER BY districtCode, wardCode",
        province_code,
    )
    if not rows:
        raise LookupError(f"no units for province {province_code} in {_dataset()}")
    valid_to = REFORM_DAY - dt.timedelta(days=1)
    populations = _commune_populations(rows) if province_code == PROVINCE_CODE else {}
    p = rows[0]
    units = [
        Unit(
            province_code,
            str(p[0]),
            "province",
            None,
            _f(p[1]),
            _f(p[2]),
            sum(DISTRICT_POPULATION_2019.values()) if populations else None,
            valid_to=valid_to,
        )
    ]
    seen_districts: set[str] = set()
    for r in rows:
        district, commune = str(r[4]), str(r[8])
        if district not in seen_districts:
            seen_districts.add(district)
            units.append(
                Unit(
                    district,
                    str(r[3]),
                    "district",
                    province_code,
                    _f(r[5]),
                    _f(r[6]),
                    DISTRICT_POPULATION_2019.get(district),
                    valid_to=valid_to,
                )
            )
        units.append(
            Unit(
                commune,
                str(r[7]),
                "commune",
                district,
                _f(r[9]),
                _f(r[10]),
                populations.get(commune),
                valid_to=valid_to,
            )
        )
    return tuple(units)


def _f(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _commune_populations(rows: list[tuple[object, ...]]) -> dict[str, int]:
    by_district: dict[str, list[tuple[str, float]]] = {}
    for r in rows:
        weight = _WARD_TYPE_WEIGHT.get(str(r[11]), 1.0)
        by_district.setdefault(str(r[4]), []).append((str(r[8]), weight))
    out: dict[str, int] = {}
    for district, members in by_district.items():
        shares = spread(DISTRICT_POPULATION_2019[district], [w for _, w in members])
        out.update({code: share for (code, _), share in zip(members, shares, strict=True)})
    return out


def communes(province_code: str = PROVINCE_CODE) -> tuple[Unit, ...]:
    return tuple(u for u in legacy_units(province_code) if u.level == "commune")


def commune_codes(province_code: str = PROVINCE_CODE) -> frozenset[str]:
    return frozenset(u.code for u in communes(province_code))


@cache
def crosswalk_2025() -> dict[str, str]:
    """Legacy Quảng Nam commune code → the 2025 commune it became part of (its default)."""
    converter = json.loads((_data_dir() / "converter_2025.json").read_text(encoding="utf-8"))
    new_key: dict[str, str] = {}
    for ward_key, legacy_keys in converter["DICT_PROVINCE_WARD_NO_DIVIDED"][CITY_2025_KEY].items():
        for legacy in legacy_keys:
            new_key[legacy] = ward_key
    for legacy, options in converter["DICT_PROVINCE_WARD_DIVIDED"][CITY_2025_KEY].items():
        new_key[legacy] = next(o["newWardKey"] for o in options if o["isDefaultNewWard"])
    new_code = {
        str(key): str(code)
        for key, code in _query(
            "SELECT wardKey, wardCode FROM admin_units WHERE provinceCode = ?", CITY_2025_CODE
        )
    }
    out: dict[str, str] = {}
    for province_key, district_key, ward_key, code in _query(
        "SELECT provinceKey, districtKey, wardKey, wardCode FROM admin_units_legacy"
        " WHERE provinceCode = ?",
        PROVINCE_CODE,
    ):
        key = f"{province_key}_{district_key}_{ward_key}"
        if key not in new_key:
            raise LookupError(f"no 2025 commune for legacy commune {code} ({key})")
        out[str(code)] = new_code[new_key[key]]
    return out


@cache
def units_2025() -> tuple[Unit, ...]:
    """Đà Nẵng city and its 2025 communes that cover former Quảng Nam, with populations."""
    walk = crosswalk_2025()
    population: dict[str, int] = {}
    for unit in communes():
        target = walk[unit.code]
        population[target] = population.get(target, 0) + (unit.population or 0)
    rows = _query(
        "SELECT province, provinceLat, provinceLon, ward, wardCode, wardLat, wardLon"
        " FROM admin_units WHERE provinceCode = ? ORDER BY wardCode",
        CITY_2025_CODE,
    )
    city = rows[0]
    units = [
        Unit(
            CITY_2025_CODE,
            str(city[0]),
            "province",
            None,
            _f(city[1]),
            _f(city[2]),
            sum(population.values()),  # the former Quảng Nam part of the city
            valid_from=REFORM_DAY,
        )
    ]
    units += [
        Unit(
            str(r[4]),
            str(r[3]),
            "commune",
            CITY_2025_CODE,
            _f(r[5]),
            _f(r[6]),
            population[str(r[4])],
            valid_from=REFORM_DAY,
        )
        for r in rows
        if str(r[4]) in population
    ]
    return tuple(units)

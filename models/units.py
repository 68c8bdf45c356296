"""Administrative units of Quảng Nam as the ``vietnamadminunits`` package ships them.

The package's SQLite dataset holds the legacy (pre-July-2025) three-level units with GSO
codes and coordinates; we read it directly rather than through its parser, which is built
for address strings. Note: the dataset reflects the 2024 merges (17 district-level units,
233 communes; Nông Sơn was merged into Quế Sơn), not the 18 / 244 of 2020.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROVINCE_CODE = "49"
PROVINCE_NAME = "Tỉnh Quảng Nam"
HIERARCHY_2020 = "2020"


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    level: str  # province | district | commune
    parent_code: str | None
    lat: float | None
    lon: float | None


def _dataset() -> Path:
    import vietnamadminunits

    return Path(vietnamadminunits.__file__).parent / "data" / "dataset.db"


@cache
def legacy_units(province_code: str = PROVINCE_CODE) -> tuple[Unit, ...]:
    """Province, districts and communes of one province in the legacy hierarchy."""
    with sqlite3.connect(f"file:{_dataset()}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT province, provinceLat, provinceLon, district, districtCode, districtLat,"
            " districtLon, ward, wardCode, wardLat, wardLon FROM admin_units_legacy"
            " WHERE provinceCode = ? ORDER BY districtCode, wardCode",
            (province_code,),
        ).fetchall()
    if not rows:
        raise LookupError(f"no units for province {province_code} in {_dataset()}")
    province = rows[0]
    units = [Unit(province_code, province[0], "province", None, province[1], province[2])]
    seen_districts: set[str] = set()
    for row in rows:
        if row[4] not in seen_districts:
            seen_districts.add(row[4])
            units.append(Unit(row[4], row[3], "district", province_code, row[5], row[6]))
        units.append(Unit(row[8], row[7], "commune", row[4], row[9], row[10]))
    return tuple(units)


def communes(province_code: str = PROVINCE_CODE) -> tuple[Unit, ...]:
    return tuple(u for u in legacy_units(province_code) if u.level == "commune")


def commune_codes(province_code: str = PROVINCE_CODE) -> frozenset[str]:
    return frozenset(u.code for u in communes(province_code))

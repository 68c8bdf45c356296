"""The registry of source systems: who sends what, from where, and how often.

It is what makes "expected vs received" computable: a source that reports every hour
between 07:00 and 17:00 on weekdays and sent nothing since 09:00 is late, not quiet.
``source`` codes are the CloudEvents ``source`` attribute (``<system>/<facility>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from models.units import PROVINCE_CODE, legacy_units

ALL_WEEK = (0, 1, 2, 3, 4, 5, 6)


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


@cache
def source_registry() -> tuple[SourceSystem, ...]:
    """Every source system of the province (health for now; other sectors join here)."""
    from models.events import HEALTH_ENCOUNTER

    units = legacy_units(PROVINCE_CODE)
    first_commune: dict[str | None, str] = {}
    for unit in units:
        if unit.level == "commune":
            first_commune.setdefault(unit.parent_code, unit.code)
    sources = [
        SourceSystem(
            code=f"his/TTYT-{unit.code}",
            name=f"Trung tâm Y tế {unit.name}",
            sector="health",
            event_types=(HEALTH_ENCOUNTER.type,),
            commune_code=first_commune[unit.code],
            reporting_hours=(0, 24),
            expected_per_hour=10.0,
        )
        for unit in units
        if unit.level == "district"
    ]
    sources.append(
        SourceSystem(
            code="his/BVDK-QN",
            name="Bệnh viện Đa khoa tỉnh Quảng Nam",
            sector="health",
            event_types=(HEALTH_ENCOUNTER.type,),
            commune_code=first_commune["502"],
            expected_per_hour=5.0,
        )
    )
    return tuple(sources)


def sources_by_code() -> dict[str, SourceSystem]:
    return {s.code: s for s in source_registry()}

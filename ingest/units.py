"""Load administrative units and their closure (every ancestor of every commune) into the store.

Both hierarchies are loaded side by side: ``2020`` (province → district → commune, valid
until 30 June 2025) and ``2025`` (Đà Nẵng city → new commune). In both, the closure's
``descendant_code`` is the legacy commune code that events carry, so a query picks a
hierarchy and rolls the same event rows up either way.
"""

from __future__ import annotations

from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import AdminUnit, AdminUnitClosure
from models.units import (
    CITY_2025_CODE,
    HIERARCHY_2020,
    HIERARCHY_2025,
    Unit,
    communes,
    crosswalk_2025,
    legacy_units,
    units_2025,
)


def closure_rows(units: tuple[Unit, ...], hierarchy: str) -> list[dict[str, str]]:
    """One row per (ancestor or self, commune): what makes any roll-up a single join."""
    by_code = {u.code: u for u in units}
    rows = []
    for unit in units:
        if unit.level != "commune":
            continue
        node: Unit | None = unit
        while node is not None:
            rows.append(_closure(hierarchy, node.code, unit.code, node.level))
            node = by_code.get(node.parent_code) if node.parent_code else None
    return rows


def closure_rows_2025() -> list[dict[str, str]]:
    """Each legacy commune under its 2025 commune and under the city."""
    walk = crosswalk_2025()
    rows = []
    for unit in communes():
        rows.append(_closure(HIERARCHY_2025, walk[unit.code], unit.code, "commune"))
        rows.append(_closure(HIERARCHY_2025, CITY_2025_CODE, unit.code, "province"))
    return rows


def _closure(hierarchy: str, ancestor: str, descendant: str, level: str) -> dict[str, str]:
    return {
        "hierarchy": hierarchy,
        "ancestor_code": ancestor,
        "descendant_code": descendant,
        "ancestor_level": level,
    }


def unit_rows(units: tuple[Unit, ...], hierarchy: str) -> list[dict[str, object]]:
    return [
        {
            "hierarchy": hierarchy,
            "code": u.code,
            "name": u.name,
            "level": u.level,
            "parent_code": u.parent_code,
            "lat": u.lat,
            "lon": u.lon,
            "population": u.population,
            "valid_from": u.valid_from,
            "valid_to": u.valid_to,
        }
        for u in units
    ]


async def load_units(conn: AsyncConnection) -> int:
    """Replace both hierarchies with the packaged ones; return the number of units loaded.

    The tables are then analysed in the same transaction: every indicator query joins the
    closure, and planned without statistics (a fresh or just rewritten table, before
    autovacuum's first pass a minute or more later) each join became a nested loop over the
    primary key, ~50 ms a query instead of ~1 ms, which made a live update take seconds.
    """
    loads = (
        (HIERARCHY_2020, legacy_units(), closure_rows(legacy_units(), HIERARCHY_2020)),
        (HIERARCHY_2025, units_2025(), closure_rows_2025()),
    )
    total = 0
    for hierarchy, units, closure in loads:
        await conn.execute(delete(AdminUnit).where(AdminUnit.hierarchy == hierarchy))
        await conn.execute(delete(AdminUnitClosure).where(AdminUnitClosure.hierarchy == hierarchy))
        await conn.execute(insert(AdminUnit), unit_rows(units, hierarchy))
        await conn.execute(insert(AdminUnitClosure), closure)
        total += len(units)
    await conn.execute(text(f"ANALYZE {AdminUnit.__tablename__}, {AdminUnitClosure.__tablename__}"))
    return total

"""Load administrative units and their closure (every ancestor of every commune) into the store."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import AdminUnit, AdminUnitClosure
from models.units import HIERARCHY_2020, Unit, legacy_units


def closure_rows(units: tuple[Unit, ...], hierarchy: str) -> list[dict[str, str]]:
    """One row per (ancestor or self, commune): what makes any roll-up a single join."""
    by_code = {u.code: u for u in units}
    rows = []
    for unit in units:
        if unit.level != "commune":
            continue
        node: Unit | None = unit
        while node is not None:
            rows.append(
                {
                    "hierarchy": hierarchy,
                    "ancestor_code": node.code,
                    "descendant_code": unit.code,
                    "ancestor_level": node.level,
                }
            )
            node = by_code.get(node.parent_code) if node.parent_code else None
    return rows


async def load_units(conn: AsyncConnection) -> int:
    """Replace the 2020 hierarchy with the packaged one; return the number of units."""
    units = legacy_units()
    await conn.execute(delete(AdminUnit).where(AdminUnit.hierarchy == HIERARCHY_2020))
    await conn.execute(delete(AdminUnitClosure).where(AdminUnitClosure.hierarchy == HIERARCHY_2020))
    await conn.execute(
        insert(AdminUnit),
        [
            {
                "hierarchy": HIERARCHY_2020,
                "code": u.code,
                "name": u.name,
                "level": u.level,
                "parent_code": u.parent_code,
                "lat": u.lat,
                "lon": u.lon,
            }
            for u in units
        ],
    )
    await conn.execute(insert(AdminUnitClosure), closure_rows(units, HIERARCHY_2020))
    return len(units)

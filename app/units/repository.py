"""SQL for administrative units."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import AdminUnit, AdminUnitClosure

_UNIT = AdminUnit.__table__
_CLOSURE = AdminUnitClosure.__table__


async def get_unit(conn: AsyncConnection, code: str, hierarchy: str) -> AdminUnit | None:
    row = (
        await conn.execute(
            select(_UNIT).where(_UNIT.c.code == code, _UNIT.c.hierarchy == hierarchy)
        )
    ).first()
    return AdminUnit(**row._mapping) if row else None


async def all_units(conn: AsyncConnection, hierarchy: str) -> list[AdminUnit]:
    rows = await conn.execute(
        select(_UNIT).where(_UNIT.c.hierarchy == hierarchy).order_by(_UNIT.c.code)
    )
    return [AdminUnit(**r._mapping) for r in rows]


async def hierarchies(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(select(_UNIT.c.hierarchy).distinct().order_by(_UNIT.c.hierarchy))
    return list(rows.scalars())


async def top_units(conn: AsyncConnection, hierarchy: str) -> list[str]:
    rows = await conn.execute(
        select(_UNIT.c.code).where(_UNIT.c.hierarchy == hierarchy, _UNIT.c.parent_code.is_(None))
    )
    return list(rows.scalars())


async def units_at_level(
    conn: AsyncConnection, hierarchy: str, level: str, within: str
) -> list[AdminUnit]:
    """Units of ``level`` inside ``within`` (itself included when it is of that level)."""
    inside = (
        select(_CLOSURE.c.ancestor_code)
        .where(
            _CLOSURE.c.hierarchy == hierarchy,
            _CLOSURE.c.ancestor_level == level,
            _CLOSURE.c.descendant_code.in_(
                select(_CLOSURE.c.descendant_code).where(
                    _CLOSURE.c.hierarchy == hierarchy, _CLOSURE.c.ancestor_code == within
                )
            ),
        )
        .distinct()
    )
    rows = await conn.execute(
        select(_UNIT)
        .where(_UNIT.c.hierarchy == hierarchy, _UNIT.c.code.in_(inside))
        .order_by(_UNIT.c.code)
    )
    return [AdminUnit(**r._mapping) for r in rows]


async def communes_of(conn: AsyncConnection, hierarchy: str) -> dict[str, list[str]]:
    """Every unit's commune codes (as events carry them): the closure, grouped."""
    rows = await conn.execute(
        select(_CLOSURE.c.ancestor_code, _CLOSURE.c.descendant_code).where(
            _CLOSURE.c.hierarchy == hierarchy
        )
    )
    out: dict[str, list[str]] = {}
    for ancestor, commune in rows:
        out.setdefault(ancestor, []).append(commune)
    return out

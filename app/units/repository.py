"""SQL for administrative units."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import AdminUnit, AdminUnitClosure

_UNIT = AdminUnit.__table__
_CLOSURE = AdminUnitClosure.__table__


@dataclass(frozen=True, slots=True)
class Unit:
    """One administrative unit as read (a row of ``admin_unit``)."""

    hierarchy: str
    code: str
    name: str
    level: str
    parent_code: str | None
    lat: float | None
    lon: float | None
    population: int | None
    valid_from: date | None
    valid_to: date | None


_UNIT_COLUMNS = [_UNIT.c[f.name] for f in fields(Unit)]
"""The columns read, named by the row type (a column renamed in the table fails here, at
import, rather than in a query)."""


def _unit(row: Row[Any]) -> Unit:
    return Unit(**row._mapping)


async def get_unit(conn: AsyncConnection, code: str, hierarchy: str) -> Unit | None:
    row = (
        await conn.execute(
            select(*_UNIT_COLUMNS).where(_UNIT.c.code == code, _UNIT.c.hierarchy == hierarchy)
        )
    ).first()
    return _unit(row) if row else None


async def all_units(conn: AsyncConnection, hierarchy: str) -> list[Unit]:
    rows = await conn.execute(
        select(*_UNIT_COLUMNS).where(_UNIT.c.hierarchy == hierarchy).order_by(_UNIT.c.code)
    )
    return [_unit(r) for r in rows]


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
) -> list[Unit]:
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
        select(*_UNIT_COLUMNS)
        .where(_UNIT.c.hierarchy == hierarchy, _UNIT.c.code.in_(inside))
        .order_by(_UNIT.c.code)
    )
    return [_unit(r) for r in rows]


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

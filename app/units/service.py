"""Unit tree and detail; also the unit checks the other domains share."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.errors import NotFound
from app.units import repository
from app.units.schemas import UnitDetail, UnitNode, UnitOut
from models.tables import AdminUnit


def _out(unit: AdminUnit) -> UnitOut:
    return UnitOut(
        code=unit.code, name=unit.name, level=unit.level, parent_code=unit.parent_code,
        lat=unit.lat, lon=unit.lon, population=unit.population,
    )  # fmt: skip


async def require_hierarchy(conn: AsyncConnection, hierarchy: str) -> None:
    loaded = await repository.hierarchies(conn)
    if hierarchy not in loaded:
        raise NotFound(
            f"Hierarchy {hierarchy} is not loaded in this deployment; loaded: {', '.join(loaded)}."
        )


async def require_unit(conn: AsyncConnection, code: str, hierarchy: str) -> AdminUnit:
    unit = await repository.get_unit(conn, code, hierarchy)
    if unit is None:
        await require_hierarchy(conn, hierarchy)
        tops = await repository.top_units(conn, hierarchy)
        raise NotFound(
            f"Unknown unit {code!r} in hierarchy {hierarchy}; the top unit is "
            f"{', '.join(tops)} and GET /api/v1/units lists all codes."
        )
    return unit


async def tree(conn: AsyncConnection, hierarchy: str) -> list[UnitNode]:
    await require_hierarchy(conn, hierarchy)
    units = await repository.all_units(conn, hierarchy)
    nodes = {u.code: UnitNode(**_out(u).model_dump()) for u in units}
    roots: list[UnitNode] = []
    for unit in units:
        parent = nodes.get(unit.parent_code) if unit.parent_code else None
        (parent.children if parent else roots).append(nodes[unit.code])
    return roots


async def detail(conn: AsyncConnection, code: str, hierarchy: str) -> UnitDetail:
    unit = await require_unit(conn, code, hierarchy)
    units = {u.code: u for u in await repository.all_units(conn, hierarchy)}
    ancestors = []
    parent = units.get(unit.parent_code) if unit.parent_code else None
    while parent is not None:
        ancestors.append(_out(parent))
        parent = units.get(parent.parent_code) if parent.parent_code else None
    children = [_out(u) for u in units.values() if u.parent_code == code]
    return UnitDetail(
        **_out(unit).model_dump(), hierarchy=hierarchy, ancestors=ancestors[::-1],
        children=children,
    )  # fmt: skip

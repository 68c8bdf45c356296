"""Unit tree and detail; also the unit checks the other domains share."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.errors import InvalidRequest, NotFound
from app.units import repository
from app.units.repository import Unit
from app.units.schemas import UnitDetail, UnitNode, UnitOut
from models.units import HIERARCHY_2020, HIERARCHY_NAMES, hierarchy_on

HierarchyName = Literal["2025-01-01", "2025-07-01", "2020", "2025"]


async def hierarchy(
    hierarchy: Annotated[
        HierarchyName | None,
        Query(
            description="The hierarchy by the date it took effect: 2025-01-01 (province, "
            "districts, communes) or 2025-07-01 (two levels). 2020 and 2025 are older "
            "names of the same two. Default: the one in force on as_of, else 2025-01-01."
        ),
    ] = None,
    as_of: Annotated[
        dt.date | None,
        Query(description="Pick the hierarchy in force on this day.", examples=["2025-08-01"]),
    ] = None,
) -> str:
    """The stored id of the asked hierarchy (a date name, an old alias, or ``as_of``)."""
    by_name = HIERARCHY_NAMES.get(hierarchy, hierarchy) if hierarchy else None
    by_day = hierarchy_on(as_of) if as_of else None
    if by_name and by_day and by_name != by_day:
        raise InvalidRequest(
            f"hierarchy={hierarchy} was not in force on as_of={as_of}; send one of the two."
        )
    return by_name or by_day or HIERARCHY_2020


HierarchyDep = Annotated[str, Depends(hierarchy)]


def _out(unit: Unit) -> UnitOut:
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


async def require_unit(conn: AsyncConnection, code: str, hierarchy: str) -> Unit:
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

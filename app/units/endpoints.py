"""Unit routes: the tree the wall's map and drill-down are built from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.kit.db import ConnDep
from app.units import service
from app.units.schemas import UnitDetail, UnitNode
from app.units.service import HierarchyDep

router = APIRouter(prefix="/units", tags=["units"])


@router.get("")
async def unit_tree(conn: ConnDep, hierarchy: HierarchyDep) -> list[UnitNode]:
    """The administrative tree of one hierarchy, with coordinates and population."""
    return await service.tree(conn, hierarchy)


@router.get("/{code}")
async def unit_detail(
    conn: ConnDep,
    code: Annotated[str, Path(max_length=16, examples=["503"])],
    hierarchy: HierarchyDep,
) -> UnitDetail:
    """One unit with its ancestors and children."""
    return await service.detail(conn, code, hierarchy)

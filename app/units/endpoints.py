"""Unit routes: the tree the wall's map and drill-down are built from."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path

from app.kit.db import ConnDep
from app.units import service
from app.units.schemas import UnitDetail, UnitNode

router = APIRouter(prefix="/units", tags=["units"])
Hierarchy = Literal["2020", "2025"]


@router.get("")
async def unit_tree(conn: ConnDep, hierarchy: Hierarchy = "2020") -> list[UnitNode]:
    """The administrative tree of one hierarchy, with coordinates and population."""
    return await service.tree(conn, hierarchy)


@router.get("/{code}")
async def unit_detail(
    conn: ConnDep,
    code: Annotated[str, Path(max_length=16, examples=["503"])],
    hierarchy: Hierarchy = "2020",
) -> UnitDetail:
    """One unit with its ancestors and children."""
    return await service.detail(conn, code, hierarchy)

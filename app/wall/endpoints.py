"""Serve the wall: its page, its script and style files, and the map's cells.

The page is static; its data comes from the API and the live stream, so it needs no build
step and any browser on the control-room network can show it. Scripts and styles are files
of their own (no inline code), so the page runs under a strict Content-Security-Policy.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, HTMLResponse

from app.kit.errors import NotFound
from app.resources import EngineDep
from app.units import repository as units_repo
from app.wall.cells import CellMap, Site, cell_map
from models.service_index import DECISION_766, ServiceIndex

router = APIRouter(tags=["wall"])
STATIC = Path(__file__).with_name("static")
ASSETS = {p.name: p for p in STATIC.iterdir() if p.suffix in (".js", ".css")}
MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_maps: dict[str, CellMap] = {}


@cache
def _page() -> str:
    return (STATIC / "wall.html").read_text(encoding="utf-8")


@router.get("/wall", response_class=HTMLResponse, include_in_schema=False)
async def wall() -> HTMLResponse:
    """The wall display. Its URL states the view: ``unit`` (drill-down), ``indicator``
    (map, ranking and charts), ``hierarchy`` (2020 or 2025), ``lang`` (vi or en) and
    ``api_key`` (a read-only wall key adds alerts and data quality)."""
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": CSP}
    return HTMLResponse(_page(), headers=headers)


@router.get("/wall/assets/{name}", include_in_schema=False)
async def asset(name: str) -> FileResponse:
    """The wall's own scripts and style sheet (a fixed list: no path ever reaches the disk)."""
    path = ASSETS.get(name)
    if path is None:
        raise NotFound(f"No wall asset {name!r}.")
    return FileResponse(path, media_type=MEDIA[path.suffix], headers={"Cache-Control": "no-cache"})


@router.get("/wall/cells")
async def cells(
    engine: EngineDep,
    hierarchy: Annotated[Literal["2020", "2025"], Query()] = "2020",
) -> CellMap:
    """Each commune's map cell (Voronoi of the commune points within the province's
    outline), in a plane ``width`` × ``height`` with y pointing south."""
    if hierarchy not in _maps:
        async with engine.connect() as conn:
            units = await units_repo.all_units(conn, hierarchy)
        sites = [
            Site(u.code, u.name, u.parent_code, u.lat, u.lon)
            for u in units
            if u.level == "commune" and u.lat is not None and u.lon is not None
        ]
        if len(sites) < 3:
            raise NotFound(f"The {hierarchy} hierarchy has no commune coordinates loaded.")
        _maps[hierarchy] = cell_map(sites)
    return _maps[hierarchy]


@router.get("/api/v1/service-index", tags=["indicators"])
async def service_index() -> ServiceIndex:
    """How the wall scores Decision 766's five groups from catalogue rates (stated mapping)."""
    return DECISION_766

"""Map cells: they tile the province's outline exactly, and each holds its own commune."""

from __future__ import annotations

from app.wall.cells import Point, Site, cell_map
from models.units import legacy_units, units_2025


def _area(polygon: list[Point]) -> float:
    n = len(polygon)
    return abs(
        sum(
            polygon[k][0] * polygon[(k + 1) % n][1] - polygon[(k + 1) % n][0] * polygon[k][1]
            for k in range(n)
        )
        / 2
    )


def _inside(p: Point, polygon: list[Point]) -> bool:
    """Convex polygon, either orientation: p is on one side of every edge."""
    n = len(polygon)
    signs = {
        (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) > 0
        for a, b in ((polygon[k], polygon[(k + 1) % n]) for k in range(n))
        if (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) != 0
    }
    return len(signs) <= 1


def test_cells_tile_the_outline_for_both_hierarchies() -> None:
    for units in (legacy_units(), units_2025()):
        sites = [
            Site(u.code, u.name, u.parent_code, u.lat, u.lon)
            for u in units
            if u.level == "commune" and u.lat is not None and u.lon is not None
        ]
        m = cell_map(sites)
        assert len(m.cells) == len(sites) > 50
        total = sum(_area(c.polygon) for c in m.cells)
        # Rounding to 0.1 plane units leaves a sliver; the cells neither overlap nor leave gaps.
        assert abs(total - _area(m.outline)) / _area(m.outline) < 0.002
        for cell in m.cells:
            assert len(cell.polygon) >= 3 and _area(cell.polygon) > 0, cell.code
            assert _inside(cell.center, cell.polygon), cell.code


def test_a_district_is_the_union_of_its_communes() -> None:
    units = legacy_units()
    sites = [
        Site(u.code, u.name, u.parent_code, u.lat, u.lon)
        for u in units
        if u.level == "commune" and u.lat is not None and u.lon is not None
    ]
    m = cell_map(sites)
    districts = {u.code for u in units if u.level == "district"}
    assert {c.parent_code for c in m.cells} == districts

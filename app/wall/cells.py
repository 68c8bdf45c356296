"""Map cells for the wall: each commune's Voronoi cell, clipped to the province's outline.

No properly licensed boundary set ships in a registry package we use, but every commune has
a point (``vietnamadminunits``). A commune's cell is the part of the province nearer to its
point than to any other commune's, so a district is the union of its communes' cells. The
outline is the convex hull of the points grown by a margin: a schematic, not a survey map,
and the wall says so. Computed once per hierarchy in plain Python (233 points: ~0.1 s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]

WIDTH = 1000.0
MARGIN_KM = 4.0
"""How far the outline reaches beyond the outermost commune points."""
SPREAD_KM = 1.5
"""Communes that share one coordinate in the dataset are set on a circle of this radius."""
KM_PER_DEGREE = 111.32


@dataclass(frozen=True, slots=True)
class Site:
    code: str
    name: str
    parent_code: str | None
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Cell:
    code: str
    name: str
    parent_code: str | None
    center: Point
    polygon: list[Point]


@dataclass(frozen=True, slots=True)
class CellMap:
    width: float
    height: float
    outline: list[Point]
    cells: list[Cell]


def cell_map(sites: Sequence[Site]) -> CellMap:
    """Project the sites to a ``WIDTH``-wide plane (north up, true proportions at the mean
    latitude) and cut that plane into their cells."""
    if len(sites) < 3:
        raise ValueError("a cell map needs at least three points")
    lat0 = sum(s.lat for s in sites) / len(sites)
    kx = KM_PER_DEGREE * math.cos(math.radians(lat0))
    km = [(s.lon * kx, -s.lat * KM_PER_DEGREE) for s in sites]  # x east, y south, in km
    km = _spread_duplicates(km)
    outline = _grow(_convex_hull(km), MARGIN_KM)
    min_x = min(x for x, _ in outline)
    min_y = min(y for _, y in outline)
    scale = WIDTH / (max(x for x, _ in outline) - min_x)
    height = (max(y for _, y in outline) - min_y) * scale

    def plane(p: Point) -> Point:
        return (round((p[0] - min_x) * scale, 1), round((p[1] - min_y) * scale, 1))

    cells = [
        Cell(site.code, site.name, site.parent_code, plane(km[i]), [plane(p) for p in polygon])
        for i, (site, polygon) in enumerate(zip(sites, voronoi_cells(km, outline), strict=True))
    ]
    return CellMap(WIDTH, round(height, 1), [plane(p) for p in outline], cells)


def voronoi_cells(points: Sequence[Point], boundary: list[Point]) -> list[list[Point]]:
    """Each point's Voronoi cell within a convex ``boundary``, by cutting the boundary with
    the half-plane nearer to the point than to each other point, nearest first."""
    cells = []
    for i, p in enumerate(points):
        others = sorted((q for j, q in enumerate(points) if j != i), key=lambda q: _d2(p, q))
        polygon = boundary
        for q in others:
            reach = max(_d2(p, v) for v in polygon)
            if _d2(p, q) > 4 * reach:  # q's bisector lies beyond every vertex: no cut left
                break
            # x nearer p than q  ⇔  (q − p)·x ≤ (|q|² − |p|²) / 2
            a, b = q[0] - p[0], q[1] - p[1]
            c = (q[0] ** 2 + q[1] ** 2 - p[0] ** 2 - p[1] ** 2) / 2
            polygon = _clip(polygon, a, b, c)
        cells.append(polygon)
    return cells


def _clip(polygon: list[Point], a: float, b: float, c: float) -> list[Point]:
    """The part of a convex polygon where a·x + b·y ≤ c (one Sutherland–Hodgman pass)."""
    out: list[Point] = []
    n = len(polygon)
    for k in range(n):
        cur, nxt = polygon[k], polygon[(k + 1) % n]
        fc = a * cur[0] + b * cur[1] - c
        fn = a * nxt[0] + b * nxt[1] - c
        if fc <= 0:
            out.append(cur)
        if (fc < 0 < fn) or (fn < 0 < fc):
            t = fc / (fc - fn)
            out.append((cur[0] + t * (nxt[0] - cur[0]), cur[1] + t * (nxt[1] - cur[1])))
    return out


def _convex_hull(points: Sequence[Point]) -> list[Point]:
    """Andrew's monotone chain, counter-clockwise."""
    pts = sorted(set(points))

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[Point] = []
    upper: list[Point] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _grow(hull: list[Point], margin: float) -> list[Point]:
    """Push each hull vertex ``margin`` away from the hull's centre (stays convex)."""
    cx = sum(x for x, _ in hull) / len(hull)
    cy = sum(y for _, y in hull) / len(hull)
    out = []
    for x, y in hull:
        d = math.hypot(x - cx, y - cy) or 1.0
        out.append((x + (x - cx) / d * margin, y + (y - cy) / d * margin))
    return out


def _spread_duplicates(points: list[Point]) -> list[Point]:
    seen: dict[Point, list[int]] = {}
    for i, p in enumerate(points):
        seen.setdefault(p, []).append(i)
    out = list(points)
    for p, indexes in seen.items():
        if len(indexes) > 1:
            for k, i in enumerate(indexes):
                angle = 2 * math.pi * k / len(indexes)
                out[i] = (p[0] + SPREAD_KM * math.cos(angle), p[1] + SPREAD_KM * math.sin(angle))
    return out


def _d2(p: Point, q: Point) -> float:
    return (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2

"""What an indicator question is: the catalogue entry, the units, the level, the buckets and
the range, checked against the catalogue and the unit tree before anything is summed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import Principal, Role, demand
from app.indicators.repository import Slice
from app.kit.buckets import Bucket
from app.kit.errors import InvalidRequest, NotFound
from app.units import repository as units_repo
from app.units.service import require_hierarchy, require_unit
from models.catalogue import BY_CODE, CATALOGUE
from models.indicators import Indicator
from models.sectors import LEGACY_SPELLINGS, SECTORS
from models.units import HIERARCHY_LEVELS

LEVEL_DEPTH = {"province": 0, "district": 1, "commune": 2}
MAX_POINTS = 50_000
"""Largest answer (units × buckets): a commune-by-day year of a district, a province's
communes by day for a quarter; beyond that a client should narrow the question."""


def get_indicator(code: str, principal: Principal | None = None) -> Indicator:
    """The catalogue entry; a restricted one only for an operator (``principal`` given)."""
    try:
        indicator = BY_CODE[code]
    except KeyError:
        raise NotFound(
            f"Unknown indicator {code!r}; valid codes: {', '.join(sorted(BY_CODE))}."
        ) from None
    if not indicator.open_data and principal is not None:
        demand(principal, Role.WALL, f"Indicator {code} is not open data: reading it")
    return indicator


def catalogue(sector: str | None = None) -> list[Indicator]:
    """The catalogue, or one declared sector's part of it (422 naming the sectors)."""
    if sector is None:
        return list(CATALOGUE)
    sector = LEGACY_SPELLINGS.get(sector, sector)
    if sector not in SECTORS:
        raise InvalidRequest(f"Unknown sector {sector!r}; choose one of {', '.join(SECTORS)}.")
    return [i for i in CATALOGUE if i.sector == sector]


@dataclass(frozen=True, slots=True)
class Question:
    indicator: Indicator
    unit: str
    level: str
    bucket: Bucket
    start: datetime
    end: datetime
    hierarchy: str
    volume_scale: float
    """The volume the sources are expected at (``IOC_VOLUME_SCALE``): source measures' own."""
    now: datetime | None = None
    """The moment it is answered as of (``IOC_PINNED_NOW``); None: the clock at answer time."""

    def as_of(self) -> datetime:
        return self.now or datetime.now(UTC)

    @property
    def slice(self) -> Slice:
        return Slice(self.unit, self.level, self.hierarchy, self.bucket, self.start, self.end)


async def ask(
    conn: AsyncConnection,
    indicator: Indicator,
    *,
    unit: str | None,
    level: str | None,
    bucket: Bucket,
    start: datetime,
    end: datetime,
    hierarchy: str,
    volume_scale: float,
    now: datetime | None = None,
) -> Question:
    """Check a question against the catalogue and the unit tree; 404/422 name the choices."""
    if bucket.value not in indicator.buckets:
        raise InvalidRequest(
            f"bucket={bucket} does not suit {indicator.code}; choose one of "
            f"{', '.join(indicator.buckets)}."
        )
    if end - start > bucket.max_range:
        raise InvalidRequest(
            f"Range of {(end - start).days} days is too long for bucket={bucket}; "
            f"at most {bucket.max_range.days} days."
        )
    if unit is None:
        await require_hierarchy(conn, hierarchy)
        unit = (await units_repo.top_units(conn, hierarchy))[0]
    found = await require_unit(conn, unit, hierarchy)
    level = level or found.level
    allowed = [
        lv
        for lv in indicator.levels
        if LEVEL_DEPTH[lv] >= LEVEL_DEPTH[found.level]
        and lv in HIERARCHY_LEVELS.get(hierarchy, tuple(LEVEL_DEPTH))
    ]
    if level not in allowed:
        raise InvalidRequest(
            f"level={level} is not available for unit {unit} ({found.level}) in hierarchy "
            f"{hierarchy}; choose one of {allowed}."
        )
    units = len(await units_repo.units_at_level(conn, hierarchy, level, unit))
    points = units * len(periods_of(bucket, start, end))
    if points > MAX_POINTS:
        raise InvalidRequest(
            f"{units} units × {points // max(units, 1)} {bucket} buckets = {points} points, "
            f"more than {MAX_POINTS} in one answer; shorten the range, use a coarser bucket "
            "or a higher level."
        )
    return Question(indicator, unit, level, bucket, start, end, hierarchy, volume_scale, now)


@lru_cache(maxsize=256)
def periods_of(
    bucket: Bucket, start: datetime, end: datetime
) -> tuple[tuple[datetime, datetime], ...]:
    """``bucket.periods(start, end)``, worked out once per range: a request lists a year's
    days when it is checked (how many points), when its route asks whether it is settled,
    and when its values are judged (each period's end); a year of days is 365 calendar
    steps in Python each time."""
    return tuple(bucket.periods(start, end))


def bucket_bounds(bucket: Bucket, moment: datetime) -> tuple[datetime, datetime]:
    """``[start, end)`` of the bucket holding ``moment``, in local time."""
    start = bucket.floor(moment)
    return start, bucket.next_start(start)

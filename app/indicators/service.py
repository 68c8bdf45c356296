"""Indicator logic: validate the question, fetch sums, divide last, judge against targets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import Principal, Role, demand
from app.indicators import lifecycles, repository
from app.indicators.repository import Slice, Sums
from app.indicators.schemas import (
    IndicatorSeries,
    IndicatorValue,
    RankedUnit,
    Ranking,
    Status,
)
from app.kit.buckets import LOCAL, Bucket
from app.kit.disclosure import withheld_of
from app.kit.errors import InvalidRequest, NotFound
from app.sources.service import SLOT_KINDS, completeness_of, slot_sums, source_metric
from app.units import repository as units_repo
from app.units.service import require_hierarchy, require_unit
from ingest.tables import streams_feeding
from models.calendar import public_holidays
from models.catalogue import BY_CODE, CATALOGUE
from models.events import REGISTRY
from models.indicators import LIFECYCLE_KINDS, Indicator, Metric, Target
from models.sectors import DATA, LEGACY_SPELLINGS, SECTORS
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


def streams_of(indicator: Indicator) -> list[str] | None:
    """Event types whose sources feed the indicator: the streams declared as filling its
    roll-ups or state tables (``ingest.tables``); None: not a stream's indicator."""
    if indicator.sector == DATA:
        return None
    tables = {m.rollup for m in (indicator.numerator, indicator.denominator) if m and m.rollup}
    found = {type_name for table in tables for type_name in streams_feeding(table)}
    return [type_name for type_name in REGISTRY if type_name in found] or None


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
    points = units * len(bucket.periods(start, end))
    if points > MAX_POINTS:
        raise InvalidRequest(
            f"{units} units × {points // max(units, 1)} {bucket} buckets = {points} points, "
            f"more than {MAX_POINTS} in one answer; shorten the range, use a coarser bucket "
            "or a higher level."
        )
    return Question(indicator, unit, level, bucket, start, end, hierarchy, volume_scale, now)


SlotSums = tuple[dict[tuple[str, datetime], float], dict[tuple[str, datetime], float]]


@dataclass(frozen=True, slots=True)
class _Memo:
    """What one answer has already summed: a rate's numerator and denominator often share a
    part (the dossiers open at the end of the period; owed and arrived reporting slots, and
    the completeness beside every value, from one slot tally), which is then queried once."""

    parts: dict[str, Sums] = field(default_factory=dict)
    slots: dict[str, SlotSums] = field(default_factory=dict)


async def metric_sums(conn: AsyncConnection, q: Question, metric: Metric) -> Sums:
    """One metric's sums per (unit, bucket) for the question's units and buckets, as of now."""
    return await _metric(conn, q, metric, q.as_of())


async def _metric(
    conn: AsyncConnection,
    q: Question,
    metric: Metric,
    now: datetime,
    memo: _Memo | None = None,
) -> Sums:
    """The metric's sums per (unit, bucket), its ``plus`` metrics added with their weights."""
    totals: dict[tuple[str, datetime], float] = {}
    stamps: dict[tuple[str, datetime], datetime] = {}
    memo = _Memo() if memo is None else memo
    for part in (metric, *metric.plus):
        key_of_part = part.model_dump_json(exclude={"weight", "plus"})
        if key_of_part not in memo.parts:
            memo.parts[key_of_part] = await _one_metric(conn, q, part, now, memo)
        for key, (value, as_of) in memo.parts[key_of_part].items():
            totals[key] = totals.get(key, 0.0) + part.weight * value
            if as_of is not None and (key not in stamps or as_of > stamps[key]):
                stamps[key] = as_of
    return {key: (total, stamps.get(key)) for key, total in totals.items()}


async def _one_metric(
    conn: AsyncConnection, q: Question, metric: Metric, now: datetime, memo: _Memo
) -> Sums:
    where = q.slice
    if metric.kind == "sum":
        return await repository.rollup_sums(conn, metric, where)
    if metric.kind == "working_days_to_done":
        holidays = holidays_between(q.start, q.end)
        return await lifecycles.working_days_to_done(conn, metric, where, holidays)
    if metric.kind in ("received_in_period", "completed_in_period"):
        return await lifecycles.lifecycle_entities(conn, metric, where)
    if metric.kind in LIFECYCLE_KINDS:
        return await lifecycles.lifecycle_counts(conn, metric, where, now)
    if metric.kind == "population":
        return {}  # per unit, not per period: see values()
    if metric.kind in SLOT_KINDS:
        slots = await _slot_sums(conn, q, [metric.stream] if metric.stream else None, now, memo)
        return {key: (value, None) for key, value in slots[SLOT_KINDS.index(metric.kind)].items()}
    mapping = await repository.commune_to_unit(conn, where)
    counts = await source_metric(
        conn, metric.kind, [metric.stream] if metric.stream else None, mapping,
        bucket=q.bucket, start=q.start, end=q.end, now=now, volume_scale=q.volume_scale,
    )  # fmt: skip
    return {key: (value, None) for key, value in counts.items()}


def holidays_between(start: datetime, end: datetime) -> list[date]:
    """Public holidays (Tết included) that a dossier finished in ``[start, end)`` may span:
    processing rarely takes more than a year."""
    first, last = (start - timedelta(days=400)).date(), end.date()
    return sorted(d for d in public_holidays() if first <= d <= last)


def value_of(indicator: Indicator, numerator: float, denominator: float | None) -> float | None:
    """factor × numerator / denominator to the catalogue's decimals; None when N/A."""
    if indicator.denominator is None:
        return round(numerator * indicator.factor, indicator.decimals)
    if not denominator:
        return None
    return round(indicator.factor * numerator / denominator, indicator.decimals)


def judge(
    indicator: Indicator, value: float | None, period: datetime, level: str
) -> tuple[float | None, float | None, str]:
    """(target, gap = value − target, status) for a value of a period at a level."""
    return judged(indicator, value, target_in_force(indicator, period, level))


def target_in_force(indicator: Indicator, period: datetime, level: str) -> Target | None:
    """The target that binds a period at a level (by the period's local year)."""
    return indicator.target_for(period.astimezone(LOCAL).year, level)


def judged(
    indicator: Indicator, value: float | None, target: Target | None
) -> tuple[float | None, float | None, Status]:
    """(target, gap = value − target, status) for a value against the target in force."""
    if target is None or value is None:
        return (target.value if target else None), None, "none"
    gap = round(value - target.value, indicator.decimals)
    sign = 1 if indicator.higher_is_better else -1
    if sign * (value - target.value) >= 0:
        return target.value, gap, "green"
    if sign * (value - target.amber_at) >= 0:
        return target.value, gap, "amber"
    return target.value, gap, "red"


async def values(
    conn: AsyncConnection, q: Question, *, with_completeness: bool = True
) -> list[IndicatorValue]:
    now = q.as_of()
    ind = q.indicator
    memo = _Memo()
    num = await _metric(conn, q, ind.numerator, now, memo)
    den: Sums = {}
    population: dict[str, float] | None = None
    if ind.denominator is not None and ind.denominator.kind == "population":
        population = await repository.populations(conn, q.slice)
    elif ind.denominator is not None:
        den = await _metric(conn, q, ind.denominator, now, memo)
    completeness = await _completeness(conn, q, now, memo) if with_completeness else {}
    # What depends on the period alone (its local start, share covered, target in force) is
    # worked out once per period, not per unit. (Pydantic's ``model_construct`` was measured
    # at 2.5 times the cost of validating these fields, so the values are validated.)
    per_period: dict[datetime, tuple[datetime, float, Target | None]] = {}
    out = []
    # Buckets where sources were expected but sent nothing still get a point: value 0 (or
    # N/A) with completeness 0 is how the wall sees a silent feed rather than a gap.
    for key in sorted(num.keys() | den.keys() | completeness.keys()):
        unit_code, period = key
        known = per_period.get(period)
        if known is None:
            known = per_period[period] = (
                period.astimezone(LOCAL),
                period_covered(q.bucket, period, q.start, q.end, now),
                target_in_force(ind, period, q.level),
            )
        local_start, covered, target = known
        numerator, num_as_of = num.get(key, (0.0, None))
        if population is not None:
            denominator: float | None = population.get(unit_code)
            den_as_of = None
        elif ind.denominator is not None:
            denominator, den_as_of = den.get(key, (0.0, None))
        else:
            denominator, den_as_of = None, None
        value = value_of(ind, numerator, denominator)
        target_value, gap, status = judged(ind, value, target)
        if num_as_of is None or (den_as_of is not None and den_as_of > num_as_of):
            num_as_of = den_as_of
        out.append(
            IndicatorValue(
                unit_code=unit_code, period_start=local_start, value=value,
                # Sums as summed: an independent recomputation matches them to 1e-9.
                numerator=numerator, denominator=denominator,
                target=target_value, gap=gap,
                status=status, completeness=completeness.get(key),
                as_of=num_as_of,
                partial=covered < 1, period_covered=covered,
            )
        )  # fmt: skip
    return out


def period_covered(
    bucket: Bucket, period: datetime, start: datetime, end: datetime, now: datetime
) -> float:
    """Share of the period inside ``[start, min(end, now))``: 1 only for a whole, finished
    one (4 decimals, rounded down, so a period short of a second is not shown whole)."""
    period_end = bucket.next_start(period)
    covered = min(period_end, end, now) - max(period, start)
    return math.floor(max(covered / (period_end - period), 0.0) * 10_000) / 10_000


async def _completeness(
    conn: AsyncConnection, q: Question, now: datetime, memo: _Memo | None = None
) -> dict[tuple[str, datetime], float]:
    streams = streams_of(q.indicator)
    if streams is None:
        return {}
    return completeness_of(*await _slot_sums(conn, q, streams, now, memo or _Memo()))


async def _slot_sums(
    conn: AsyncConnection, q: Question, event_types: list[str] | None, now: datetime, memo: _Memo
) -> SlotSums:
    """Owed and arrived slots of the sources of ``event_types`` in the question's units."""
    key = repr(event_types)
    if key not in memo.slots:
        mapping = await repository.commune_to_unit(conn, q.slice)
        memo.slots[key] = await slot_sums(
            conn, event_types, mapping, bucket=q.bucket, start=q.start, end=q.end, now=now,
            volume_scale=q.volume_scale,
        )  # fmt: skip
    return memo.slots[key]


async def series(conn: AsyncConnection, q: Question, principal: Principal) -> IndicatorSeries:
    found = await disclosed(conn, q, await values(conn, q), principal)
    return IndicatorSeries(indicator=q.indicator, values=found)


async def disclosed(
    conn: AsyncConnection, q: Question, found: list[IndicatorValue], principal: Principal
) -> list[IndicatorValue]:
    """``found`` as ``principal`` may see it: an operator everything; anyone else without
    the small counts of a health series (``app.kit.disclosure``), judged among each
    unit's siblings whichever of them the question shows."""
    if not q.indicator.suppress_small_counts or principal.can(Role.OPERATOR):
        return found
    unit = await require_unit(conn, q.unit, q.hierarchy)
    siblings = found
    if unit.level == q.level and unit.parent_code is not None:  # widen to the parent
        siblings = await values(conn, replace(q, unit=unit.parent_code), with_completeness=False)
    scope = q.unit if unit.level != q.level else (unit.parent_code or q.unit)
    parents = {
        u.code: u.parent_code
        for u in await units_repo.units_at_level(conn, q.hierarchy, q.level, scope)
    }
    counted = q.indicator.denominator is not None and q.indicator.denominator.kind != "population"
    hidden = withheld_of(
        (
            (v.unit_code, v.period_start),
            (parents.get(v.unit_code), v.period_start),
            (v.numerator or 0.0, v.denominator or 0.0) if counted else (v.numerator or 0.0,),
        )
        for v in siblings
    )
    return [
        v.model_copy(
            update={"numerator": None, "denominator": None, "value": None, "gap": None,
                    "status": "none", "suppressed": True}
        ) if (v.unit_code, v.period_start) in hidden else v
        for v in found
    ]  # fmt: skip


async def ranking(
    conn: AsyncConnection, q: Question, province: Question, principal: Principal
) -> Ranking:
    """Units at the question's level for one bucket, best first, with the top unit's value."""
    ranked = await disclosed(conn, q, await values(conn, q), principal)
    overall = await disclosed(conn, province, await values(conn, province), principal)
    best_first = sorted(
        ranked,
        key=lambda v: (
            v.value is None,
            -(v.value or 0) if q.indicator.higher_is_better is not False else (v.value or 0),
            v.unit_code,
        ),
    )
    return Ranking(
        indicator=q.indicator,
        period_start=q.start.astimezone(LOCAL),
        bucket=q.bucket,
        level=q.level,
        overall=overall[0] if overall else None,
        units=[RankedUnit(rank=i + 1, **v.model_dump()) for i, v in enumerate(best_first)],
    )


def bucket_bounds(bucket: Bucket, moment: datetime) -> tuple[datetime, datetime]:
    """``[start, end)`` of the bucket holding ``moment``, in local time."""
    start = bucket.floor(moment)
    return start, bucket.next_start(start)

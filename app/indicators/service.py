"""Indicator answers: sum the metrics, divide last, judge against targets, and show each
reader what it may see (a series, a ranking).

The question (``questions``), the sums (``metrics``) and the arithmetic on one value
(``judging``) live beside this module; their public names are re-exported here, where the
rest of the application has always found them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import Principal, Role
from app.indicators import metrics, repository
from app.indicators.judging import judge as judge
from app.indicators.judging import judged as judged
from app.indicators.judging import period_covered as period_covered
from app.indicators.judging import target_in_force as target_in_force
from app.indicators.judging import value_of as value_of
from app.indicators.metrics import Memo, summed
from app.indicators.metrics import holidays_between as holidays_between
from app.indicators.metrics import metric_sums as metric_sums
from app.indicators.metrics import streams_of as streams_of
from app.indicators.questions import LEVEL_DEPTH as LEVEL_DEPTH
from app.indicators.questions import MAX_POINTS as MAX_POINTS
from app.indicators.questions import Question as Question
from app.indicators.questions import ask as ask
from app.indicators.questions import bucket_bounds as bucket_bounds
from app.indicators.questions import catalogue as catalogue
from app.indicators.questions import get_indicator as get_indicator
from app.indicators.questions import periods_of as periods_of
from app.indicators.repository import Sums
from app.indicators.schemas import IndicatorSeries, IndicatorValue, RankedUnit, Ranking, known_value
from app.kit.buckets import LOCAL
from app.kit.disclosure import withheld_of
from app.units import repository as units_repo
from app.units.service import require_unit
from models.indicators import Target


async def values(
    conn: AsyncConnection, q: Question, *, with_completeness: bool = True
) -> list[IndicatorValue]:
    """The question's values, one per (unit, bucket) with a sum, a denominator or an owed
    reporting slot, each judged against its target (``with_completeness``: with the share
    of reporting slots its sources filled)."""
    now = q.as_of()
    ind = q.indicator
    memo = Memo()
    if ind.denominator is not None and ind.denominator.kind == "sum":
        await metrics.sum_together(conn, q, (ind.numerator, ind.denominator), memo)
    num = await summed(conn, q, ind.numerator, now, memo)
    den: Sums = {}
    population: dict[str, float] | None = None
    if ind.denominator is not None and ind.denominator.kind == "population":
        population = await repository.populations(conn, q.slice)
    elif ind.denominator is not None:
        den = await summed(conn, q, ind.denominator, now, memo)
    completeness = await metrics.completeness(conn, q, now, memo) if with_completeness else {}
    # What depends on the period alone (its local start, share covered, target in force) is
    # worked out once per period, not per unit.
    ends = dict(periods_of(q.bucket, q.start, q.end))
    per_period: dict[datetime, tuple[datetime, float, bool, Target | None]] = {}
    out = []
    has_denominator = ind.denominator is not None
    no_sum = (0.0, None)
    # Buckets where sources were expected but sent nothing still get a point: value 0 (or
    # N/A) with completeness 0 is how the wall sees a silent feed rather than a gap.
    for key in sorted(num.keys() | den.keys() | completeness.keys()):
        unit_code, period = key
        known = per_period.get(period)
        if known is None:
            covered = period_covered(q.bucket, period, q.start, q.end, now, ends.get(period))
            known = per_period[period] = (
                period.astimezone(LOCAL), covered, covered < 1,
                target_in_force(ind, period, q.level),
            )  # fmt: skip
        local_start, covered, partial, target = known
        # Floats from here on, whatever a store counted in (a value is built unchecked).
        numerator, num_as_of = num.get(key, no_sum)
        numerator = float(numerator)
        if population is not None:
            denominator: float | None = population.get(unit_code)
            den_as_of = None
        elif has_denominator:
            denominator, den_as_of = den.get(key, no_sum)
        else:
            denominator, den_as_of = None, None
        if denominator is not None:
            denominator = float(denominator)
        value = value_of(ind, numerator, denominator)
        target_value, gap, status = judged(ind, value, target)
        if num_as_of is None or (den_as_of is not None and den_as_of > num_as_of):
            num_as_of = den_as_of
        out.append(
            known_value(
                unit_code, local_start, value,
                # Sums as summed: an independent recomputation matches them to 1e-9.
                numerator, denominator,
                target_value, gap, status, completeness.get(key), num_as_of, partial, covered,
            )
        )  # fmt: skip
    return out


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

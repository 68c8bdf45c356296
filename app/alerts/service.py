"""Evaluate alert rules against indicator values and move alerts through their lifecycle.

Evaluation is idempotent: a breach that is already open only refreshes its value, a unit
back within bounds resolves its alert, so evaluating after every change notice and on a
timer (silence produces no notices) gives the same result as evaluating once.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.alerts import repository
from app.alerts.coverage import Coverage, coverage
from app.alerts.repository import AlertDraft, AlertRow
from app.alerts.schemas import AlertOut, EvaluationResult
from app.alerts.texts import texts
from app.indicators import repository as indicators_repo
from app.indicators import service as indicators
from app.indicators.repository import UnitsAt
from app.indicators.service import Question, streams_of
from app.kit.buckets import Bucket
from app.kit.errors import Conflict, NotFound
from app.sources.service import slot_tally, sources_for
from app.units import repository as units_repo
from models.alert_rules import RULES, AlertRule, AnomalyRule, ThresholdRule
from models.catalogue import BY_CODE
from models.indicators import Metric


@dataclass(frozen=True, slots=True)
class Judgement:
    """A unit's standing under a rule: its current value, and whether it breaches (opens or
    keeps an alert) or is clear (resolves one); neither: inside the hysteresis band."""

    period_start: datetime
    value: float | None
    reference: float | None
    """The threshold, or the usual value (baseline median)."""
    breach: bool
    clear: bool


async def settled_until(conn: AsyncConnection, as_of: datetime) -> datetime:
    """The moment up to which data has stopped arriving (``app.alerts.coverage``)."""
    return (await coverage(conn, as_of)).settled


_AT_END = frozenset({"open_at_end", "open_overdue_at_end"})
_AT_START = frozenset({"open_at_start"})


def _parts(metric: Metric, keep: Callable[[str], bool]) -> Metric | None:
    """The metric's parts (itself and its ``plus``) of the kinds ``keep`` keeps, as one."""
    parts = [p.model_copy(update={"plus": ()}) for p in (metric, *metric.plus) if keep(p.kind)]
    return parts[0].model_copy(update={"plus": tuple(parts[1:])}) if parts else None


async def _window_total(conn: AsyncConnection, q: Question, metric: Metric) -> dict[str, float]:
    """A lifecycle metric over the window: flows (completed in it…) summed hour by hour,
    stocks (open at the end, at the start) counted once, at the window's edge; summed
    over its hours, a dossier open all week would count 168 times."""
    hour = timedelta(hours=1)
    pieces = (
        (_parts(metric, lambda k: k not in _AT_END | _AT_START), q.start, q.end),
        (_parts(metric, _AT_END.__contains__), q.end - hour, q.end),
        (_parts(metric, _AT_START.__contains__), q.start, q.start + hour),
    )
    out: dict[str, float] = {}
    for part, start, end in pieces:
        if part is not None:
            sums = await indicators.metric_sums(conn, replace(q, start=start, end=end), part)
            for (unit, _), (total, _) in sums.items():
                out[unit] = out.get(unit, 0.0) + total
    return out


async def _window_sums(
    conn: AsyncConnection,
    rule: ThresholdRule,
    top: str,
    hierarchy: str,
    end: datetime,
    seen: Coverage,
    volume_scale: float,
) -> dict[str, tuple[float, float]]:
    indicator = BY_CODE[rule.indicator]
    start = end - timedelta(hours=rule.window_hours)
    if indicator.numerator.kind == "received_slots":
        return await _slot_sums(conn, rule, top, hierarchy, start, end, seen, volume_scale)
    stocks = _AT_END | _AT_START
    if any(m.kind in stocks for f in (indicator.numerator, indicator.denominator) if f
           for m in (f, *f.plus)):  # fmt: skip
        q = Question(indicator, top, rule.level, Bucket.HOUR, start, end, hierarchy, volume_scale)
        num = await _window_total(conn, q, indicator.numerator)
        den = await _window_total(conn, q, indicator.denominator) if indicator.denominator else {}
        return {unit: (num.get(unit, 0.0), den.get(unit, 0.0)) for unit in set(num) | set(den)}
    q = Question(indicator, top, rule.level, Bucket.HOUR, start, end, hierarchy, volume_scale)
    sums: dict[str, list[float]] = {}
    for v in await indicators.values(conn, q, with_completeness=False):
        acc = sums.setdefault(v.unit_code, [0.0, 0.0])
        acc[0] += v.numerator or 0.0
        if indicator.denominator is not None and indicator.denominator.kind == "population":
            acc[1] = v.denominator or 0.0
        else:
            acc[1] += v.denominator or 0.0
    return {unit: (num, den) for unit, (num, den) in sums.items()}


async def _slot_sums(
    conn: AsyncConnection,
    rule: ThresholdRule,
    top: str,
    hierarchy: str,
    start: datetime,
    end: datetime,
    seen: Coverage,
    volume_scale: float,
) -> dict[str, tuple[float, float]]:
    """(arrived, owed) reporting slots per unit in the window, each source's slots counted
    only from its stream's first event on (a slot before the data starts is not missing)."""
    mapping = await indicators_repo.commune_to_unit(conn, UnitsAt(top, rule.level, hierarchy))
    stream = BY_CODE[rule.indicator].numerator.stream  # a feed family (hospitals') or all
    chosen = sources_for([stream] if stream else None, volume_scale)
    sources = [s for s in chosen if s.commune_code in mapping]
    since = {s.code: seen.observed_from(s) for s in sources}
    tallied = await slot_tally(conn, sources, Bucket.HOUR, start, end, datetime.now(UTC), since)
    commune = {s.code: s.commune_code for s in sources}
    sums: dict[str, list[float]] = {}
    for code, periods in tallied.items():
        for owed, arrived in periods.values():
            acc = sums.setdefault(mapping[commune[code]], [0.0, 0.0])
            acc[0] += arrived
            acc[1] += owed
    return {unit: (num, den) for unit, (num, den) in sums.items() if den > 0}


def _sized_value(rule: AlertRule, num: float, den: float) -> float | None:
    """The window's value, or None when its volume is under the rule's minimum."""
    indicator = BY_CODE[rule.indicator]
    size = den if indicator.denominator is not None else num
    return None if size < rule.min_denominator else indicators.value_of(indicator, num, den)


def _data_start(rule: AlertRule, seen: Coverage) -> datetime | None:
    """Where the stored data of the rule's indicator starts (None: it has none); for a
    data-quality indicator, where any data starts (its slots are covered one by one)."""
    types = streams_of(BY_CODE[rule.indicator])
    return seen.data_start if types is None else seen.start_of(types)


async def _threshold(
    conn: AsyncConnection,
    rule: ThresholdRule,
    top: str,
    hierarchy: str,
    seen: Coverage,
    volume_scale: float,
) -> dict[str, Judgement]:
    """Units judged over the window ending at the settled hour; a window (or a baseline
    window) that begins before the data does is not a window of data."""
    end = Bucket.HOUR.floor(seen.settled)
    start = end - timedelta(hours=rule.window_hours)
    first = _data_start(rule, seen)
    if first is None or start < first:
        return {}
    current = await _window_sums(conn, rule, top, hierarchy, end, seen, volume_scale)
    usual: dict[str, list[float]] = {}
    pooled: dict[str, list[float]] = {}
    for weeks in range(1, rule.baseline_weeks + 1):
        earlier_end = end - timedelta(weeks=weeks)
        if earlier_end - timedelta(hours=rule.window_hours) < first:
            break
        earlier = await _window_sums(conn, rule, top, hierarchy, earlier_end, seen, volume_scale)
        for unit, (num, den) in earlier.items():
            value = _sized_value(rule, num, den)
            if value is not None:
                usual.setdefault(unit, []).append(value)
                acc = pooled.setdefault(unit, [0.0, 0.0])
                acc[0] += num
                acc[1] += den
    out: dict[str, Judgement] = {}
    for unit, (num, den) in current.items():
        value = _sized_value(rule, num, den)
        if value is None:
            continue
        reference, level = rule.threshold, value
        if rule.baseline_weeks:
            if unit not in usual:
                continue  # no earlier week to compare with: not judged
            reference = statistics.median(usual[unit])
            level = value - reference
        beyond = level > rule.threshold if rule.op == ">" else level < rule.threshold
        if beyond and rule.significance_z is not None and unit in pooled:
            z = two_proportion_z(num, den, *pooled[unit])
            beyond = z > rule.significance_z if rule.op == ">" else z < -rule.significance_z
        back = level <= rule.clear_bound if rule.op == ">" else level >= rule.clear_bound
        out[unit] = Judgement(start, value, reference, beyond, back)
    return out


def two_proportion_z(num: float, den: float, base_num: float, base_den: float) -> float:
    """How many standard errors the share num/den lies from base_num/base_den, under the
    pooled share (a share that chance alone gives is within ±2 or so)."""
    pooled = (num + base_num) / (den + base_den)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / den + 1 / base_den))
    diff = num / den - base_num / base_den
    if spread == 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / spread


def robust_z(value: float, baseline: list[float]) -> float | None:
    """0.6745 × (x − median) / MAD; None when the baseline does not vary."""
    median = statistics.median(baseline)
    mad = statistics.median(abs(b - median) for b in baseline)
    return None if mad == 0 else 0.6745 * (value - median) / mad


async def _anomaly(
    conn: AsyncConnection,
    rule: AnomalyRule,
    top: str,
    hierarchy: str,
    seen: Coverage,
    volume_scale: float,
) -> dict[str, Judgement]:
    """The last complete bucket against the same bucket of earlier periods, each only if
    the data covers it whole (an empty bucket before the data starts is not a zero)."""
    indicator = BY_CODE[rule.indicator]
    bucket = Bucket(rule.bucket)
    current = bucket.floor(seen.settled)
    latest = bucket.floor(current - timedelta(seconds=1))  # the last complete bucket
    first = _data_start(rule, seen)
    if first is None or latest < first:
        return {}
    step = timedelta(days=rule.baseline_step_days)
    starts = [bucket.floor(latest - k * step) for k in range(rule.baseline_periods + 1)]
    covered = [s for s in starts[1:] if s >= first]
    if len(covered) < rule.baseline_periods // 2:
        return {}
    q = Question(indicator, top, rule.level, bucket, min(starts), current, hierarchy, volume_scale)
    by_unit: dict[str, dict[datetime, float | None]] = {}
    sizes: dict[datetime, dict[str, float]] = {}
    for v in await indicators.values(conn, q, with_completeness=False):
        by_unit.setdefault(v.unit_code, {})[v.period_start] = v.value
        size = v.denominator if indicator.denominator is not None else v.numerator
        sizes.setdefault(v.period_start, {})[v.unit_code] = size or 0.0
    out: dict[str, Judgement] = {}
    for unit, series in by_unit.items():
        fill = 0.0 if indicator.additive else None
        baseline = [h for h in (series.get(s, fill) for s in covered) if h is not None]
        value = series.get(latest, fill)
        if value is None or len(baseline) < rule.baseline_periods // 2:
            continue
        # Minimum volume: of the bucket judged, or for a drop, of the usual level (a drop
        # to nothing is the signal, but only from a level that means something).
        usual_size = statistics.median(sizes.get(s, {}).get(unit, 0.0) for s in covered)
        size = usual_size if rule.direction == "low" else sizes.get(latest, {}).get(unit, 0.0)
        if size < rule.min_denominator:
            continue
        z = robust_z(value, baseline)
        if z is None:
            continue
        high, low = z > rule.z, z < -rule.z
        breach = (
            (rule.direction == "high" and high)
            or (rule.direction == "low" and low)
            or (rule.direction == "both" and (high or low))
        )
        median = statistics.median(baseline)
        breach = breach and abs(value - median) >= rule.min_change * abs(median)
        out[unit] = Judgement(latest, value, median, breach, abs(z) <= rule.clear_z)
    return out


async def evaluate(
    conn: AsyncConnection, as_of: datetime, *, volume_scale: float, hierarchy: str = "2020",
    rules: tuple[AlertRule, ...] = RULES,
) -> EvaluationResult:  # fmt: skip
    """Open alerts for breaches, refresh the value of those still open, resolve the units
    back past the clear bound (``recovered``) and those the rule no longer judges
    (``not_judged``: too little volume, no usual level, no covered window); judged only
    on data that has stopped arriving. Sources are expected at ``volume_scale``."""
    tops = await units_repo.top_units(conn, hierarchy)
    opened: list[AlertOut] = []
    resolved: list[AlertOut] = []
    if not tops:
        return EvaluationResult(evaluated_rules=0, opened=[], resolved=[])
    seen = await coverage(conn, as_of)
    names = await _unit_names(conn)
    for rule in rules:
        if isinstance(rule, ThresholdRule):
            judged = await _threshold(conn, rule, tops[0], hierarchy, seen, volume_scale)
        else:
            judged = await _anomaly(conn, rule, tops[0], hierarchy, seen, volume_scale)
        existing = await repository.unresolved(conn, rule.code)
        for unit, alert in existing.items():
            j = judged.get(unit)
            reason = "not_judged" if j is None else "recovered" if j.clear else None
            if reason is None:
                continue
            done = await repository.transition(
                conn, alert.id, from_status=("open", "acknowledged"), status="resolved",
                resolved_at=as_of, resolution=reason,
            )  # fmt: skip
            if done:
                resolved.append(_out(done, names))
        for unit, j in judged.items():
            draft = AlertDraft(
                rule_code=rule.code, kind=rule.kind, indicator_code=rule.indicator,
                unit_code=unit, severity=rule.severity, period_start=j.period_start,
                value=j.value, threshold=j.reference,
            )  # fmt: skip
            message = texts(draft, names.get(unit, unit))[0]
            if unit in existing:
                if not j.clear:
                    await repository.refresh(
                        conn, existing[unit].id, value=j.value, threshold=j.reference,
                        period_start=j.period_start, message=message,
                    )  # fmt: skip
            elif j.breach:
                row = await repository.open_alert(conn, draft, message)
                if row:
                    opened.append(_out(row, names))
    return EvaluationResult(evaluated_rules=len(rules), opened=opened, resolved=resolved)


async def _unit_names(conn: AsyncConnection) -> dict[str, str]:
    names: dict[str, str] = {}
    for hierarchy in await units_repo.hierarchies(conn):
        for unit in await units_repo.all_units(conn, hierarchy):
            names.setdefault(unit.code, unit.name)
    return names


def _out(row: AlertRow, names: dict[str, str], lang: str = "vi") -> AlertOut:
    name = names.get(row.unit_code, row.unit_code)
    vi, en = texts(row, name, row.message)
    return AlertOut.model_validate(
        asdict(row) | {"unit_name": name, "message": en if lang == "en" else vi, "message_vi": vi,
               "message_en": en}
    )  # fmt: skip


async def get(conn: AsyncConnection, alert_id: int, lang: str = "vi") -> AlertOut:
    row = await repository.get(conn, alert_id)
    if row is None:
        raise NotFound(f"No alert with id {alert_id}; GET /api/v1/alerts lists them.")
    return _out(row, await _unit_names(conn), lang)


async def acknowledge(
    conn: AsyncConnection, alert_id: int, by: str, now: datetime, lang: str = "vi"
) -> AlertOut:
    """open → acknowledged; acknowledging twice is a no-op, a resolved alert is a 409."""
    current = await get(conn, alert_id, lang)
    if current.status == "acknowledged":
        return current
    row = await repository.transition(
        conn, alert_id, from_status=("open",), status="acknowledged", acknowledged_at=now,
        acknowledged_by=by,
    )  # fmt: skip
    if row is None:
        raise Conflict(f"Alert {alert_id} is {current.status}; only an open alert is acknowledged.")
    return _out(row, await _unit_names(conn), lang)


async def resolve(
    conn: AsyncConnection, alert_id: int, now: datetime, lang: str = "vi"
) -> AlertOut:
    """open / acknowledged → resolved, by an operator (the evaluator also resolves)."""
    current = await get(conn, alert_id, lang)
    row = await repository.transition(
        conn, alert_id, from_status=("open", "acknowledged"), status="resolved",
        resolved_at=now, resolution="operator",
    )  # fmt: skip
    if row is None:
        raise Conflict(f"Alert {alert_id} is already {current.status}.")
    return _out(row, await _unit_names(conn), lang)


async def search(conn: AsyncConnection, lang: str = "vi", **filters: Any) -> list[AlertOut]:
    names = await _unit_names(conn)
    return [_out(r, names, lang) for r in await repository.search(conn, **filters)]

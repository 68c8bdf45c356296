"""Evaluate alert rules against indicator values and move alerts through their lifecycle.

Evaluation is idempotent: a breach that is already open only refreshes its value, a unit
back within bounds resolves its alert, so evaluating after every change notice and on a
timer (silence produces no notices) gives the same result as evaluating once.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.alerts import repository
from app.alerts.schemas import AlertOut, EvaluationResult
from app.indicators import service as indicators
from app.indicators.service import Question
from app.kit.buckets import Bucket
from app.kit.errors import Conflict, NotFound
from app.units import repository as units_repo
from models.alert_rules import RULES, AlertRule, AnomalyRule, ThresholdRule
from models.catalogue import BY_CODE

Breach = tuple[str, datetime, float | None, float | None, str]
"""(unit, period start, value, threshold or baseline, message)."""


async def _threshold(
    conn: AsyncConnection, rule: ThresholdRule, top: str, hierarchy: str, as_of: datetime
) -> tuple[list[Breach], set[str]]:
    indicator = BY_CODE[rule.indicator]
    end = Bucket.HOUR.floor(as_of)
    start = end - timedelta(hours=rule.window_hours)
    q = Question(indicator, top, rule.level, Bucket.HOUR, start, end, hierarchy)
    sums: dict[str, list[float]] = {}
    for v in await indicators.values(conn, q, with_completeness=False):
        acc = sums.setdefault(v.unit_code, [0.0, 0.0])
        acc[0] += v.numerator or 0.0
        if indicator.denominator is not None and indicator.denominator.kind == "population":
            acc[1] = v.denominator or 0.0
        else:
            acc[1] += v.denominator or 0.0
    breaches: list[Breach] = []
    judged: set[str] = set()
    for unit, (num, den) in sums.items():
        size = den if indicator.denominator is not None else num
        if size < rule.min_denominator:
            continue
        judged.add(unit)
        value = indicators.value_of(indicator, num, den)
        if value is None:
            continue
        if (value > rule.threshold) if rule.op == ">" else (value < rule.threshold):
            breaches.append(
                (unit, start, value, rule.threshold,
                 f"{indicator.name_en} in {unit} over the last {rule.window_hours} h is "
                 f"{value:g} {indicator.unit} ({rule.op} {rule.threshold:g}): {rule.description}")
            )  # fmt: skip
    return breaches, judged


def robust_z(value: float, baseline: list[float]) -> float | None:
    """0.6745 × (x − median) / MAD; None when the baseline does not vary."""
    median = statistics.median(baseline)
    mad = statistics.median(abs(b - median) for b in baseline)
    return None if mad == 0 else 0.6745 * (value - median) / mad


async def _anomaly(
    conn: AsyncConnection, rule: AnomalyRule, top: str, hierarchy: str, as_of: datetime
) -> tuple[list[Breach], set[str]]:
    indicator = BY_CODE[rule.indicator]
    bucket = Bucket(rule.bucket)
    current = bucket.floor(as_of)
    latest = bucket.floor(current - timedelta(seconds=1))  # the last complete bucket
    step = timedelta(days=rule.baseline_step_days)
    starts = [bucket.floor(latest - k * step) for k in range(rule.baseline_periods + 1)]
    q = Question(indicator, top, rule.level, bucket, min(starts), current, hierarchy)
    by_unit: dict[str, dict[datetime, float | None]] = {}
    sizes: dict[str, float] = {}
    for v in await indicators.values(conn, q, with_completeness=False):
        by_unit.setdefault(v.unit_code, {})[v.period_start] = v.value
        if v.period_start == latest:
            size = v.denominator if indicator.denominator is not None else v.numerator
            sizes[v.unit_code] = size or 0.0
    breaches: list[Breach] = []
    judged: set[str] = set()
    for unit, series in by_unit.items():
        if sizes.get(unit, 0.0) < rule.min_denominator and rule.direction != "low":
            continue
        fill = 0.0 if indicator.additive else None
        history = [series.get(s, fill) for s in starts[1:]]
        baseline = [h for h in history if h is not None]
        value = series.get(latest, fill)
        if value is None or len(baseline) < rule.baseline_periods // 2:
            continue
        judged.add(unit)
        z = robust_z(value, baseline)
        if z is None:
            continue
        high, low = z > rule.z, z < -rule.z
        if (
            (rule.direction == "high" and high)
            or (rule.direction == "low" and low)
            or (rule.direction == "both" and (high or low))
        ):
            median = statistics.median(baseline)
            breaches.append(
                (unit, latest, value, median,
                 f"{indicator.name_en} in {unit} is {value:g} against a usual {median:g} "
                 f"(robust z {z:.1f}): {rule.description}")
            )  # fmt: skip
    return breaches, judged


async def evaluate(
    conn: AsyncConnection, as_of: datetime, *, hierarchy: str = "2020",
    rules: tuple[AlertRule, ...] = RULES,
) -> EvaluationResult:  # fmt: skip
    """Open alerts for breaches, refresh those still breaching, resolve the recovered."""
    tops = await units_repo.top_units(conn, hierarchy)
    opened: list[AlertOut] = []
    resolved: list[AlertOut] = []
    if not tops:
        return EvaluationResult(evaluated_rules=0, opened=[], resolved=[])
    for rule in rules:
        if isinstance(rule, ThresholdRule):
            breaches, judged = await _threshold(conn, rule, tops[0], hierarchy, as_of)
        else:
            breaches, judged = await _anomaly(conn, rule, tops[0], hierarchy, as_of)
        existing = await repository.unresolved(conn, rule.code)
        breaching = set()
        for unit, period, value, threshold, message in breaches:
            breaching.add(unit)
            if unit in existing:
                await repository.refresh(
                    conn, existing[unit]["id"], value=value, period_start=period
                )
                continue
            row = await repository.open_alert(
                conn,
                {
                    "rule_code": rule.code, "kind": rule.kind, "indicator_code": rule.indicator,
                    "unit_code": unit, "severity": rule.severity, "status": "open",
                    "period_start": period, "value": value, "threshold": threshold,
                    "message": message,
                },
            )  # fmt: skip
            if row:
                opened.append(AlertOut.model_validate(row))
        for unit, row in existing.items():
            if unit in judged and unit not in breaching:
                done = await repository.transition(
                    conn, row["id"], from_status=("open", "acknowledged"), status="resolved",
                    resolved_at=as_of,
                )  # fmt: skip
                if done:
                    resolved.append(AlertOut.model_validate(done))
    return EvaluationResult(evaluated_rules=len(rules), opened=opened, resolved=resolved)


async def get(conn: AsyncConnection, alert_id: int) -> AlertOut:
    row = await repository.get(conn, alert_id)
    if row is None:
        raise NotFound(f"No alert with id {alert_id}; GET /api/v1/alerts lists them.")
    return AlertOut.model_validate(row)


async def acknowledge(conn: AsyncConnection, alert_id: int, by: str, now: datetime) -> AlertOut:
    """open → acknowledged; acknowledging twice is a no-op, a resolved alert is a 409."""
    current = await get(conn, alert_id)
    if current.status == "acknowledged":
        return current
    row = await repository.transition(
        conn, alert_id, from_status=("open",), status="acknowledged", acknowledged_at=now,
        acknowledged_by=by,
    )  # fmt: skip
    if row is None:
        raise Conflict(f"Alert {alert_id} is {current.status}; only an open alert is acknowledged.")
    return AlertOut.model_validate(row)


async def resolve(conn: AsyncConnection, alert_id: int, now: datetime) -> AlertOut:
    """open / acknowledged → resolved, by an operator (the evaluator also resolves)."""
    current = await get(conn, alert_id)
    row = await repository.transition(
        conn, alert_id, from_status=("open", "acknowledged"), status="resolved", resolved_at=now
    )
    if row is None:
        raise Conflict(f"Alert {alert_id} is already {current.status}.")
    return AlertOut.model_validate(row)


async def search(conn: AsyncConnection, **filters: Any) -> list[AlertOut]:
    return [AlertOut.model_validate(r) for r in await repository.search(conn, **filters)]

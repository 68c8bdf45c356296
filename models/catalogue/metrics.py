"""What catalogue entries are built from: metric shorthands per roll-up and target sources."""

from __future__ import annotations

from models.indicators import Metric, Target

QN_PLAN = "Quảng Nam digital-government plan 2021–2025 (seed 000)"
QN_RES04 = "Quảng Nam Resolution 04/NQ-TU on digital transformation (seed 002)"
D766 = "Decision 766/QĐ-TTg service-quality index"


def sum_of(rollup: str, measure: str, **filters: str | bool | tuple[str, ...]) -> Metric:
    return Metric(rollup=rollup, measure=measure, filters=filters)


def enc(measure: str = "encounters", **f: str | bool | tuple[str, ...]) -> Metric:
    return sum_of("health_encounter_hourly", measure, **f)


def claim(measure: str = "claims") -> Metric:
    return sum_of("health_claim_hourly", measure)


def att(measure: str) -> Metric:
    return sum_of("education_attendance_hourly", measure)


def arr(measure: str = "visitors_sum", **f: str | bool | tuple[str, ...]) -> Metric:
    return sum_of("tourism_arrival_hourly", measure, **f)


def fb(measure: str = "feedback") -> Metric:
    return sum_of("tourism_feedback_hourly", measure)


def dos(measure: str, stage: str, **f: str | bool | tuple[str, ...]) -> Metric:
    """A dossier transition count: roll-up rows are per lifecycle step (``stage``)."""
    return sum_of("public_service_dossier_hourly", measure, stage=stage, **f)


def rep(measure: str, stage: str, **f: str | bool | tuple[str, ...]) -> Metric:
    return sum_of("citizen_report_hourly", measure, stage=stage, **f)


def minus(metric: Metric) -> Metric:
    return metric.model_copy(update={"weight": -1.0})


def pct(low: float, high: float, year: int, source: str, **kw: object) -> Target:
    """A "reach ``high`` %" target, amber from ``low`` %."""
    return Target(year=year, value=high, amber_at=low, source=source, **kw)


PER_10K = Metric(kind="population")

"""Alert texts, Vietnamese first and English, with the unit's name and the current value.

Built when an alert is read or published, from the rule, the indicator and the stored
(refreshed) value, so a text never shows the value the alert had when it opened.
"""

from __future__ import annotations

from app.alerts.repository import AlertDraft
from models.alert_rules import BY_RULE, ThresholdRule
from models.catalogue import BY_CODE


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def _num_vi(value: float | None, unit: str) -> str:
    """Vietnamese number style: '.' groups thousands, ',' marks decimals."""
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".").translate(str.maketrans(",.", ".,"))
    return f"{text}%" if unit == "%" else text


def texts(alert: AlertDraft, unit_name: str, stored: str = "") -> tuple[str, str]:
    """(Vietnamese, English) text of an alert; ``stored`` (its stored message) when its rule
    or indicator has since been removed."""
    rule = BY_RULE.get(alert.rule_code)
    indicator = BY_CODE.get(alert.indicator_code)
    if rule is None or indicator is None:  # a rule since removed: keep what was stored
        return stored, stored
    unit, value, ref = indicator.unit, alert.value, alert.threshold
    place_vi = place_en = f"{unit_name} ({alert.unit_code})"
    if isinstance(rule, ThresholdRule) and rule.baseline_weeks:
        vi = (
            f"{indicator.name_vi} tại {place_vi} trong {rule.window_hours} giờ qua là "
            f"{_num_vi(value, unit)}, thường lệ {_num_vi(ref, unit)} cùng khung giờ các tuần "
            f"trước. {rule.description_vi}"
        )
        en = (
            f"{indicator.name_en} in {place_en} over the last {rule.window_hours} h is "
            f"{_num(value, unit)}, against a usual {_num(ref, unit)} for the same hours of "
            f"earlier weeks. {rule.description}"
        )
    elif isinstance(rule, ThresholdRule):
        side_vi = "trên" if rule.op == ">" else "dưới"
        side_en = "above" if rule.op == ">" else "below"
        vi = (
            f"{indicator.name_vi} tại {place_vi} trong {rule.window_hours} giờ qua là "
            f"{_num_vi(value, unit)}, {side_vi} ngưỡng {_num_vi(ref, unit)}. "
            f"{rule.description_vi}"
        )
        en = (
            f"{indicator.name_en} in {place_en} over the last {rule.window_hours} h is "
            f"{_num(value, unit)}, {side_en} the threshold of {_num(ref, unit)}. "
            f"{rule.description}"
        )
    else:
        vi = (
            f"{indicator.name_vi} tại {place_vi} là {_num_vi(value, unit)}, thường lệ "
            f"{_num_vi(ref, unit)}. {rule.description_vi}"
        )
        en = (
            f"{indicator.name_en} in {place_en} is {_num(value, unit)} against a usual "
            f"{_num(ref, unit)}. {rule.description}"
        )
    return vi, en

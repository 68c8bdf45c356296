"""The catalogue and the arithmetic around it, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.indicators.service import judge, value_of
from app.kit.buckets import LOCAL, Bucket
from app.stream.schemas import StreamEvent, Subscription
from models import tables_serving  # noqa: F401  (registers the serving tables)
from models.catalogue import BY_CODE, CATALOGUE
from models.indicators import LIFECYCLE_KINDS, Metric
from models.sectors import SECTORS
from models.tables import Base


def _metrics(metric: Metric) -> list[Metric]:
    return [metric, *(m for part in metric.plus for m in _metrics(part))]


def test_every_metric_names_real_rollup_columns() -> None:
    for indicator in CATALOGUE:
        for top in (indicator.numerator, indicator.denominator):
            for metric in _metrics(top) if top else []:
                if metric.kind not in ("sum", *LIFECYCLE_KINDS):
                    continue
                table = Base.metadata.tables[str(metric.rollup)]
                if metric.measure:
                    assert metric.measure in table.c, (indicator.code, metric.measure)
                for column in metric.filters:
                    assert column in table.c, (indicator.code, column)


def test_the_catalogue_covers_every_sector_and_decision_766() -> None:
    assert len(CATALOGUE) >= 20
    assert {i.sector for i in CATALOGUE} == set(SECTORS)
    decision_766 = {
        "ps.on_time_rate", "ps.overdue_rate", "ps.avg_processing_days", "ps.synced_rate",
        "ps.online_services_share", "ps.online_submission_rate", "ps.online_payment_rate",
        "ps.e_result_rate", "ps.digitised_rate", "ps.data_reuse_rate", "ps.vneid_rate",
        "ps.satisfaction_rate", "citizen.on_time_rate", "citizen.satisfaction_rate",
    }  # fmt: skip
    assert decision_766 <= set(BY_CODE)
    assert all(i.name_vi and i.name_en for i in CATALOGUE)


def test_values_are_two_decimals_and_na_without_a_denominator() -> None:
    share = BY_CODE["ps.online_submission_rate"]
    assert value_of(share, 2, 3) == 66.67
    assert value_of(share, 0, 0) is None
    assert value_of(BY_CODE["health.encounters"], 12, None) == 12


@pytest.mark.parametrize(
    ("code", "value", "status"),
    [
        ("ps.online_submission_rate", 55.73, "green"),  # Quảng Nam 2022 against > 50% by 2025
        ("ps.online_submission_rate", 45.0, "amber"),
        ("ps.online_submission_rate", 30.0, "red"),
        ("ps.overdue_rate", 4.0, "green"),  # lower is better
        ("ps.overdue_rate", 8.0, "amber"),
        ("ps.overdue_rate", 12.0, "red"),
        ("health.encounters", 100.0, "none"),  # no target
    ],
)
def test_status_bands(code: str, value: float, status: str) -> None:
    period = datetime(2024, 5, 1, tzinfo=LOCAL)
    assert judge(BY_CODE[code], value, period, "province")[2] == status


def test_targets_are_the_next_milestone_then_stay_in_force() -> None:
    indicator = BY_CODE["ps.online_submission_rate"]
    target = indicator.target_for(2023, "district")
    assert target is not None and target.year == 2025 and target.value == 50
    later = indicator.target_for(2031, "district")  # "over 50% by 2025" still binds after 2025
    assert later is not None and later.year == 2025 and later.value == 50
    assert BY_CODE["health.encounters"].target_for(2031, "district") is None


def test_buckets_are_local_calendar_periods() -> None:
    moment = datetime(2025, 3, 31, 18, 30, tzinfo=UTC)  # 1 April 01:30 in Quảng Nam
    assert Bucket.DAY.floor(moment) == datetime(2025, 4, 1, tzinfo=LOCAL)
    assert Bucket.WEEK.floor(moment) == datetime(2025, 3, 31, tzinfo=LOCAL)
    assert Bucket.QUARTER.floor(moment) == datetime(2025, 4, 1, tzinfo=LOCAL)
    jan = datetime(2025, 1, 31, tzinfo=LOCAL)
    assert Bucket.MONTH.next_start(Bucket.MONTH.floor(jan)) == datetime(2025, 2, 1, tzinfo=LOCAL)
    periods = Bucket.MONTH.periods(
        datetime(2025, 1, 15, tzinfo=LOCAL), datetime(2025, 3, 2, tzinfo=LOCAL)
    )
    assert [p[0].month for p in periods] == [1, 2, 3]
    # Quarters and years step into the next bucket (they used to step back onto their own
    # start: periods() never ended and a request with bucket=quarter or year hung).
    new_year = datetime(2025, 1, 1, tzinfo=LOCAL)
    assert Bucket.QUARTER.next_start(new_year) == datetime(2025, 4, 1, tzinfo=LOCAL)
    assert Bucket.YEAR.next_start(new_year) == datetime(2026, 1, 1, tzinfo=LOCAL)
    quarters = Bucket.QUARTER.periods(jan, datetime(2026, 1, 1, tzinfo=LOCAL))
    assert [(p[0].year, p[0].month) for p in quarters] == [(2025, m) for m in (1, 4, 7, 10)]
    years = Bucket.YEAR.periods(jan, datetime(2027, 1, 1, tzinfo=LOCAL))
    assert [p[0] for p in years] == [datetime(y, 1, 1, tzinfo=LOCAL) for y in (2025, 2026)]


def test_stream_filters() -> None:
    event = StreamEvent("b:1", "indicator", {}, indicator="health.encounters",
                        units=frozenset({"503"}))  # fmt: skip
    restricted = StreamEvent("b:2", "indicator", {}, indicator="data.completeness",
                             units=frozenset({"503"}), open_data=False)  # fmt: skip
    alert = StreamEvent("b:3", "alert", {}, indicator="health.encounters", units=frozenset({"503"}))
    public = Subscription(indicators=None, units=frozenset({"503"}), operator=False)
    operator = Subscription(indicators=frozenset({"health.encounters"}), units=None, operator=True)
    assert public.wants(event) and not public.wants(restricted) and not public.wants(alert)
    assert operator.wants(event) and operator.wants(alert) and not operator.wants(restricted)
    elsewhere = Subscription(indicators=None, units=frozenset({"502"}), operator=True)
    assert not elsewhere.wants(event)


def test_every_open_health_indicator_withholds_small_counts() -> None:
    """Encounters, beds and insurance claims all count patients: none may reach the public
    with a count under 5 (a claim is an insured visit, an occupied bed an inpatient)."""
    leaking = [
        i.code
        for i in CATALOGUE
        if i.sector == "health" and i.open_data and not i.suppress_small_counts
    ]
    assert leaking == []

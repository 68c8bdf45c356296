"""Every catalogue indicator (``data.*`` aside), recomputed by the oracle from the raw
stream, equals the API's at commune, district and province level by hour, day, week and
month: counts exactly, numerators and denominators to 1e-9. Plus invariants over the same
answers: ratios within their bounds, numerator ≤ denominator, children summing to parents.

The default run checks the recorded two-day stream, which starts in the middle of
dossiers' and reports' lives; ``-m faults`` adds replays with every fault kind.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from models.catalogue import CATALOGUE
from models.indicators import Indicator
from models.sectors import DATA
from simulators.faults import FAULT_KINDS
from tests.conftest import ADMIN_API_KEY
from tests.oracle.conftest import generated_lines, oracle_for, recorded_lines, replay
from tests.oracle.recompute import LOCAL, Key, Oracle

pytestmark = pytest.mark.integration

OPERATOR = {"X-API-Key": ADMIN_API_KEY}
INDICATORS = [i for i in CATALOGUE if i.sector != DATA]
LEVELS = ("commune", "district", "province")
WINDOWS = {  # whole periods around the recording (12–13 October 2025)
    "hour": (datetime(2025, 10, 12, tzinfo=LOCAL), datetime(2025, 10, 14, tzinfo=LOCAL)),
    "day": (datetime(2025, 10, 12, tzinfo=LOCAL), datetime(2025, 10, 14, tzinfo=LOCAL)),
    "week": (datetime(2025, 10, 6, tzinfo=LOCAL), datetime(2025, 10, 20, tzinfo=LOCAL)),
    "month": (datetime(2025, 10, 1, tzinfo=LOCAL), datetime(2025, 11, 1, tzinfo=LOCAL)),
}
Cells = dict[Key, tuple[float, float | None]]


async def api_cells(
    api: AsyncClient, ind: Indicator, level: str, bucket: str, window: tuple[datetime, datetime]
) -> tuple[Cells, list[dict[str, Any]]]:
    params = {"level": level, "bucket": bucket, "from": window[0].isoformat(),
              "to": window[1].isoformat()}  # fmt: skip
    response = await api.get(
        f"/api/v1/indicators/{ind.code}/values", params=params, headers=OPERATOR
    )
    assert response.status_code == 200, response.text
    values = response.json()["values"]
    cells = {
        (v["unit_code"], datetime.fromisoformat(v["period_start"])): (
            v["numerator"],
            v["denominator"],
        )
        for v in values
        if v["numerator"] or v["denominator"]
    }
    if ind.denominator is not None and ind.denominator.kind == "population":
        cells = {k: c for k, c in cells.items() if c[0]}
    return cells, values


def close(a: float | None, b: float | None, exact: bool) -> bool:
    if a is None or b is None:
        return a == b
    return a == b if exact else math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def differences(ind: Indicator, got: Cells, want: Cells) -> list[str]:
    out = []
    for key in sorted(set(got) | set(want)):
        g, w = got.get(key, (0.0, 0.0)), want.get(key, (0.0, 0.0))
        if not (close(g[0], w[0], ind.additive) and close(g[1] or 0.0, w[1] or 0.0, ind.additive)):
            out.append(f"{key[0]} {key[1]:%Y-%m-%d %H:%M}: API {g} oracle {w}")
    return out


def grid(indicators: list[Indicator], buckets: tuple[str, ...]) -> list[tuple[Indicator, str, str]]:
    return [
        (ind, level, bucket)
        for ind in indicators
        for level in LEVELS
        for bucket in buckets
        if level in ind.levels and bucket in ind.buckets
    ]


async def check_everything(
    api: AsyncClient, oracle: Oracle, cases: list[tuple[Indicator, str, str]]
) -> dict[tuple[str, str, str], Cells]:
    """Compare every case with the oracle and the invariants; return the API's cells."""
    failures: list[str] = []
    answers: dict[tuple[str, str, str], Cells] = {}
    for ind, level, bucket in cases:
        window = WINDOWS[bucket]
        got, values = await api_cells(api, ind, level, bucket, window)
        want = oracle.indicator(ind, level, bucket, *window)
        if not want and level == "province":
            failures.append(f"{ind.code} {level}/{bucket}: the stream gives the oracle nothing")
        diff = differences(ind, got, want)
        if diff:
            failures.append(
                f"{ind.code} {level}/{bucket}: {len(diff)} cells differ, e.g. {diff[:3]}"
            )
        failures += [f"{ind.code} {level}/{bucket}: {p}" for p in invariant_breaches(ind, values)]
        answers[ind.code, level, bucket] = got
    assert not failures, "\n".join(failures)
    return answers


def invariant_breaches(ind: Indicator, values: list[dict[str, Any]]) -> list[str]:
    """A ratio in % lies in [0, 100] with 0 ≤ numerator ≤ denominator (bed occupancy may
    exceed 100); a count or sum is never negative."""
    out = []
    for v in values:
        num, den, value = v["numerator"] or 0.0, v["denominator"], v["value"]
        if ind.code != "tourism.mean_sentiment" and num < 0:
            out.append(f"negative numerator {v}")
        bounded = ind.unit == "%" and den is not None and ind.code != "health.bed_occupancy"
        if bounded and (
            not 0 <= num <= den + 1e-9 or (value is not None and not 0 <= value <= 100)
        ):
            out.append(f"out of bounds {v['unit_code']} {v['period_start']}: {num}/{den}")
    return out


async def check_children_sum_to_parents(
    api: AsyncClient, answers: dict[tuple[str, str, str], Cells]
) -> None:
    """Numerators and denominators (every one a sum over entities or events) of each unit
    are the sums of its children's, at every level and bucket."""
    tree = (await api.get("/api/v1/units", params={"hierarchy": "2020"})).json()
    top = tree[0] if isinstance(tree, list) else tree
    parent = {d["code"]: top["code"] for d in top["children"]}
    parent |= {c["code"]: d["code"] for d in top["children"] for c in d["children"]}
    failures = []
    for (code, level, bucket), parent_cells in answers.items():
        child_level = {"province": "district", "district": "commune"}.get(level)
        ind = next(i for i in INDICATORS if i.code == code)
        if child_level is None or (ind.denominator and ind.denominator.kind == "population"):
            continue
        sums: dict[Key, list[float]] = {}
        for (unit, period), (num, den) in answers[code, child_level, bucket].items():
            acc = sums.setdefault((parent[unit], period), [0.0, 0.0])
            acc[0] += num or 0.0
            acc[1] += den or 0.0
        for key in set(sums) | set(parent_cells):
            num, den = parent_cells.get(key, (0.0, 0.0))
            s = sums.get(key, [0.0, 0.0])
            if not (math.isclose(num or 0.0, s[0], rel_tol=1e-9, abs_tol=1e-6)
                    and math.isclose(den or 0.0, s[1], rel_tol=1e-9, abs_tol=1e-6)):  # fmt: skip
                failures.append(f"{code} {level}/{bucket} {key}: {num, den} ≠ Σ children {s}")
    assert not failures, "\n".join(failures[:20])


@pytest.fixture
async def recorded(api: AsyncClient, clean_db: AsyncEngine) -> tuple[AsyncClient, Oracle]:
    lines = recorded_lines()
    await replay(clean_db, lines)
    return api, await oracle_for(api, lines, datetime.now(UTC))


async def test_every_indicator_matches_the_oracle_by_day_at_every_level(
    recorded: tuple[AsyncClient, Oracle],
) -> None:
    """The recording starts in the middle of dossiers' and reports' lives."""
    api, oracle = recorded
    answers = await check_everything(api, oracle, grid(INDICATORS, ("day",)))
    await check_children_sum_to_parents(api, answers)


@pytest.mark.faults
async def test_every_indicator_matches_the_oracle_by_hour_week_and_month(
    recorded: tuple[AsyncClient, Oracle],
) -> None:
    api, oracle = recorded
    answers = await check_everything(api, oracle, grid(INDICATORS, ("hour", "week", "month")))
    await check_children_sum_to_parents(api, answers)


@pytest.mark.faults
@pytest.mark.parametrize("fault", FAULT_KINDS)
async def test_a_replay_with_faults_matches_the_oracle(
    api: AsyncClient, clean_db: AsyncEngine, fault: str
) -> None:
    """A generated stream starting mid-life (12 October, 00:00) with one fault kind at 5 %.
    Faults act on what is stored, not on how it is bucketed: hour and day cells are compared
    (week and month bucketing is proven on the clean recording)."""
    start, end = WINDOWS["day"]
    lines = generated_lines(start, end, seed=11, scale=0.05, faults={fault: 0.05})
    await replay(clean_db, lines)
    oracle = await oracle_for(api, lines, datetime.now(UTC))
    answers = await check_everything(api, oracle, grid(INDICATORS, ("hour", "day")))
    await check_children_sum_to_parents(api, answers)

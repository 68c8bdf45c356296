"""Golden snapshots from the recorded stream in tests/data, replayed through the ingest writer.

Two days of every sector (12–13 Oct 2025, a Sunday and a Monday, in the rainy season) are
written exactly as the consumer writes batches; indicator values at province, district and
commune level are then compared with the snapshots in tests/golden/. A change in any
numerator, denominator, value, target band or completeness shows up as a diff there.
Regenerate after an intended change with ``IOC_UPDATE_GOLDEN=1 ./run pytest
tests/test_indicators_golden.py``
and review the diff.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.indicators import repository
from app.indicators.repository import Slice
from app.kit.buckets import LOCAL, Bucket
from ingest.writer import RawMessage, Writer
from models.catalogue import CATALOGUE
from tests.conftest import ADMIN_API_KEY

pytestmark = pytest.mark.integration

RECORDING = Path(__file__).parent / "data" / "stream-2025-10-12.jsonl.gz"
GOLDEN = Path(__file__).parent / "golden"
WINDOW = {"from": "2025-10-12T00:00:00+07:00", "to": "2025-10-14T00:00:00+07:00"}
OPERATOR = {"X-API-Key": ADMIN_API_KEY}
HOI_AN = "503"

# (snapshot name, indicator, query)
SNAPSHOTS: list[tuple[str, str, dict[str, str]]] = [
    ("encounters_province", "health.encounters", {"bucket": "day"}),
    ("encounters_districts", "health.encounters", {"bucket": "day", "level": "district"}),
    ("encounters_hoi_an_communes", "health.encounters",
     {"bucket": "day", "unit": HOI_AN, "level": "commune"}),
    ("emergency_share_province", "health.emergency_share", {"bucket": "day"}),
    ("bed_occupancy_districts", "health.bed_occupancy", {"bucket": "day", "level": "district"}),
    ("attendance_districts", "education.attendance_rate", {"bucket": "day", "level": "district"}),
    ("visitors_hoi_an_communes", "tourism.visitors",
     {"bucket": "day", "unit": HOI_AN, "level": "commune"}),
    ("online_submission_province", "ps.online_submission_rate", {"bucket": "day"}),
    ("on_time_districts", "ps.on_time_rate", {"bucket": "week", "level": "district"}),
    ("overdue_province", "ps.overdue_rate", {"bucket": "day"}),
    ("citizen_reports_districts", "citizen.reports", {"bucket": "day", "level": "district"}),
    ("completeness_province", "data.completeness", {"bucket": "day"}),
    ("encounters_2025_city", "health.encounters", {"bucket": "day", "hierarchy": "2025"}),
]  # fmt: skip
ADDITIVE = [i.code for i in CATALOGUE if i.additive]


@pytest.fixture
async def replayed(api: AsyncClient, clean_db: AsyncEngine) -> AsyncClient:
    with gzip.open(RECORDING, "rb") as recording:
        lines = [line.rstrip(b"\n") for line in recording if line.strip()]
    writer = Writer(clean_db)
    inserted = 0
    for start in range(0, len(lines), 2000):  # the consumer's batch size
        batch = [RawMessage("replay", 0, start + i, None, line)
                 for i, line in enumerate(lines[start:start + 2000])]  # fmt: skip
        inserted += (await writer.write(batch)).inserted
    assert inserted > 0.9 * len(lines)
    return api


def _stable(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop ``as_of`` (when the roll-up row was written: the replay's clock, not the data's)
    and ``completeness`` (it follows the source registry's baselines, which are calibrated
    separately: the data-quality snapshot and test_indicators_completeness.py cover it)."""
    return [{k: v for k, v in value.items() if k not in ("as_of", "completeness")}
            for value in values]  # fmt: skip


@pytest.mark.parametrize(("name", "code", "query"), SNAPSHOTS, ids=[s[0] for s in SNAPSHOTS])
async def test_golden_snapshot(
    replayed: AsyncClient, name: str, code: str, query: dict[str, str]
) -> None:
    response = await replayed.get(
        f"/api/v1/indicators/{code}/values", params={**WINDOW, **query}, headers=OPERATOR
    )
    assert response.status_code == 200, response.text
    got = _stable(response.json()["values"])
    assert got, f"{name}: the recording should produce values"
    path = GOLDEN / f"{name}.json"
    if os.environ.get("IOC_UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))


async def test_rollups_are_consistent_across_levels(replayed: AsyncClient) -> None:
    """Province = sum of districts = sum of communes, for counts and for every ratio's parts."""

    async def by_period(code: str, level: str, hierarchy: str = "2020") -> dict[str, list[float]]:
        params = {**WINDOW, "bucket": "day", "level": level, "hierarchy": hierarchy}
        values = (
            await replayed.get(f"/api/v1/indicators/{code}/values", params=params, headers=OPERATOR)
        ).json()["values"]
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for v in values:
            sums[v["period_start"]][0] += v["numerator"]
            sums[v["period_start"]][1] += v["denominator"] or 0.0
        return {p: [round(n, 6), round(d, 6)] for p, (n, d) in sums.items()}

    ratios = ["health.emergency_share", "health.bed_occupancy", "ps.online_submission_rate",
              "education.attendance_rate", "tourism.international_share"]  # fmt: skip
    for code in ADDITIVE + ratios:
        province = await by_period(code, "province")
        assert province, code
        assert await by_period(code, "district") == province, code
        assert await by_period(code, "commune") == province, code
        assert await by_period(code, "province", "2025") == province, code


async def test_ranking_orders_districts_best_first_with_the_province(
    replayed: AsyncClient,
) -> None:
    params = {"period": "2025-10-13T10:00:00+07:00", "bucket": "day", "level": "district"}
    ranking = (
        await replayed.get("/api/v1/indicators/education.attendance_rate/ranking", params=params)
    ).json()
    values = [u["value"] for u in ranking["units"]]
    assert len(values) > 10 and values == sorted(values, reverse=True)
    assert [u["rank"] for u in ranking["units"]] == list(range(1, len(values) + 1))
    assert ranking["period_start"] == "2025-10-13T00:00:00+07:00"
    province = ranking["overall"]
    assert province["unit_code"] == "49"
    assert province["numerator"] == sum(u["numerator"] for u in ranking["units"])
    assert min(values) <= province["value"] <= max(values)

    # Lower is better for overdue dossiers: the best district has the smallest rate.
    overdue = (
        await replayed.get("/api/v1/indicators/ps.overdue_rate/ranking", params=params)
    ).json()["units"]
    rates = [u["value"] for u in overdue if u["value"] is not None]
    assert rates == sorted(rates)


async def test_a_rates_parts_summed_together_are_each_summed_alone(
    replayed: AsyncClient, clean_db: AsyncEngine
) -> None:
    """One pass over a roll-up for a rate's numerator and denominator gives each exactly
    the sums, keys and ``as_of`` its own query gives, at every level, over whole days and
    with partial days at the edges."""
    rates = [
        i for i in CATALOGUE
        if i.numerator.kind == "sum" and i.denominator is not None
        and i.denominator.kind == "sum" and not i.numerator.plus and not i.denominator.plus
    ]  # fmt: skip
    together = answered = 0
    async with clean_db.connect() as conn:
        for start, end in (
            (datetime(2025, 10, 12, tzinfo=LOCAL), datetime(2025, 10, 14, tzinfo=LOCAL)),
            (datetime(2025, 10, 12, 10, tzinfo=LOCAL), datetime(2025, 10, 13, 15, tzinfo=LOCAL)),
        ):
            for level, bucket in (("province", Bucket.DAY), ("district", Bucket.WEEK),
                                  ("commune", Bucket.DAY)):  # fmt: skip
                where = Slice("49", level, "2020", bucket, start, end)
                for indicator in rates:
                    parts = (indicator.numerator, indicator.denominator)
                    found = await repository.rollup_sums_together(conn, parts, where)  # type: ignore[arg-type]
                    if found is None:
                        continue
                    together += 1
                    alone = [await repository.rollup_sums(conn, m, where) for m in parts]  # type: ignore[arg-type]
                    assert found == alone, (indicator.code, level, bucket, start)
                    answered += bool(found[0] and found[1])
    assert together >= 6 * len(rates) // 2  # most rates are whole-number sums of one roll-up
    assert answered >= together // 2

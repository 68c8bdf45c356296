"""What the public may see: small health counts withheld with their complements, and
periods cut by the window or not over yet marked partial."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.disclosure import Cell, withheld
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY
from tests.test_export import ingest

T0 = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)
WINDOW = {"from": "2025-06-02T00:00:00+07:00", "to": "2025-06-03T00:00:00+07:00"}
OPERATOR = {"X-API-Key": ADMIN_API_KEY}


def test_a_lone_small_cell_takes_its_smallest_non_zero_sibling_with_it() -> None:
    cells = [
        Cell("a", "g", (3,)),
        Cell("b", "g", (40,)),
        Cell("c", "g", (9,)),
        Cell("z", "g", (0,)),
    ]
    assert withheld(cells) == {"a", "c"}
    # Two small cells hide each other; other groups are judged on their own.
    pair = [Cell("a", "g", (3,)), Cell("b", "g", (1,)), Cell("c", "g", (9,))]
    assert withheld([*pair, Cell("d", "h", (7,))]) == {"a", "b"}
    # A ratio's cell is small when its numerator or its denominator is.
    assert withheld([Cell("a", "g", (0, 4)), Cell("b", "g", (6, 50))]) == {"a", "b"}
    assert withheld([Cell("a", "g", (0, 0)), Cell("b", "g", (6, 50))]) == set()


async def siblings(api: AsyncClient, commune: str) -> list[str]:
    unit = (await api.get(f"/api/v1/units/{commune}")).json()
    district = unit["ancestors"][-1]["code"] if "ancestors" in unit else unit["parent_code"]
    children = (await api.get(f"/api/v1/units/{district}")).json()["children"]
    return [c["code"] for c in children if c["code"] != commune]


@pytest.mark.integration
async def test_public_routes_withhold_small_counts_and_their_complement(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    small = b.source_for(b.ev.HEALTH_ENCOUNTER).commune_code
    middle, large = (await siblings(api, small))[:2]
    counts = {small: 3, middle: 20, large: 30}
    docs = [
        b.encounter(T0 + timedelta(minutes=i), i, subject=commune)
        for commune, n in counts.items()
        for i in range(n)
    ]
    await ingest(clean_db, docs)
    commune_level = {**WINDOW, "level": "commune"}

    def seen(answer: dict[str, Any]) -> dict[str, Any]:
        return {v["unit_code"]: v["numerator"] for v in answer["values"]}

    public = seen(
        (await api.get("/api/v1/indicators/health.encounters/values", params=commune_level)).json()
    )
    # 3 is withheld, and so is 20: the district's 53 minus 30 would give the 3 back.
    assert public[small] is None and public[middle] is None and public[large] == 30
    operator = await api.get(
        "/api/v1/indicators/health.encounters/values", params=commune_level, headers=OPERATOR
    )
    assert seen(operator.json())[small] == 3 and seen(operator.json())[middle] == 20
    # Asking for the small commune alone does not undo it.
    alone = await api.get(
        "/api/v1/indicators/health.encounters/values", params={**WINDOW, "unit": small}
    )
    assert seen(alone.json()) == {small: None}
    # Nor do the export, the ranking, or a ratio made of the same counts.
    export = (await api.get("/api/v1/export/health.encounters.json", params=commune_level)).json()
    assert seen(export)[small] is None and seen(export)[middle] is None
    ranking = await api.get(
        "/api/v1/indicators/health.encounters/ranking",
        params={"period": "2025-06-02T12:00:00+07:00", "bucket": "day", "level": "commune"},
    )
    ranked = {u["unit_code"]: u for u in ranking.json()["units"]}
    assert ranked[small]["suppressed"] and ranked[small]["value"] is None
    assert ranked[middle]["suppressed"] and ranked[large]["value"] == 30
    share = await api.get("/api/v1/indicators/health.emergency_share/values", params=commune_level)
    assert {v["unit_code"] for v in share.json()["values"] if v["suppressed"]} >= {small, middle}


@pytest.mark.integration
async def test_a_period_cut_by_the_window_or_not_over_says_how_much_it_covers(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    await ingest(clean_db, [b.encounter(datetime(2025, 11, 3, 3, tzinfo=UTC), i) for i in range(6)])
    params = {
        "bucket": "month",
        "from": "2025-11-01T00:00:00+07:00",
        "to": "2025-11-08T00:00:00+07:00",
    }
    (value,) = (await api.get("/api/v1/indicators/health.encounters/values", params=params)).json()[
        "values"
    ]
    assert value["partial"] is True and value["period_covered"] == 0.2333
    params = {**params, "to": "2025-12-01T00:00:00+07:00"}
    (value,) = (await api.get("/api/v1/indicators/health.encounters/values", params=params)).json()[
        "values"
    ]
    assert value["partial"] is False and value["period_covered"] == 1.0
    # The current year is not over: whatever it holds so far is partial.
    now = datetime.now(UTC)
    year = {
        "bucket": "year",
        "from": f"{now.year}-01-01T00:00:00+07:00",
        "to": f"{now.year + 1}-01-01T00:00:00+07:00",
    }
    await ingest(clean_db, [b.encounter(now - timedelta(hours=1), i) for i in range(6)])
    (value,) = (await api.get("/api/v1/indicators/health.encounters/values", params=year)).json()[
        "values"
    ]
    assert value["partial"] is True and 0 < value["period_covered"] < 1

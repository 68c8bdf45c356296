"""Administrative units: populations, the 2025 crosswalk, and both hierarchies in the store."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.units import closure_rows_2025
from models.units import (
    CITY_2025_CODE,
    DISTRICT_POPULATION_2019,
    communes,
    crosswalk_2025,
    legacy_units,
    spread,
    units_2025,
)


def test_spread_sums_exactly_and_follows_weights() -> None:
    shares = spread(1000, [1.6, 1.0, 1.0])
    assert sum(shares) == 1000
    assert shares[0] > shares[1] >= shares[2] >= 277


def test_commune_populations_add_up_to_the_census_district_totals() -> None:
    units = legacy_units()
    assert sum(u.level == "district" for u in units) == 17
    assert len(communes()) == 233
    by_district: dict[str, int] = {}
    for unit in communes():
        assert unit.population and unit.population > 0
        assert unit.lat and unit.lon and 14.9 < unit.lat < 16.1
        by_district[unit.parent_code or ""] = by_district.get(unit.parent_code or "", 0) + (
            unit.population
        )
    assert by_district == DISTRICT_POPULATION_2019
    assert units[0].population == sum(DISTRICT_POPULATION_2019.values())


def test_every_legacy_commune_maps_to_one_2025_commune_of_da_nang() -> None:
    walk = crosswalk_2025()
    assert set(walk) == {u.code for u in communes()}
    new = {u.code: u for u in units_2025()}
    assert new[CITY_2025_CODE].level == "province"
    assert set(walk.values()) == set(new) - {CITY_2025_CODE}
    # Hội An's old core (Minh An, Cẩm Phô, Sơn Phong, …) became Phường Hội An.
    assert new[walk["20398"]].name == "Phường Hội An"
    in_2025 = [u.population or 0 for u in new.values() if u.level == "commune"]
    assert sum(in_2025) == sum(u.population or 0 for u in communes())
    # The city's figure is the former Quảng Nam part it covers: its communes' sum.
    assert new[CITY_2025_CODE].population == sum(in_2025)
    assert len(closure_rows_2025()) == 2 * len(communes())


@pytest.mark.integration
async def test_both_hierarchies_are_loaded_with_effective_dates(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT hierarchy, count(*) FROM admin_unit GROUP BY 1"))
        counts = {row[0]: row[1] for row in rows}
        assert counts == {"2020": len(legacy_units()), "2025": len(units_2025())}
        # A legacy commune rolls up to its 2025 commune and to the city via the closure.
        ancestors = (
            await conn.execute(
                text(
                    "SELECT c.ancestor_level, u.name, u.valid_from FROM admin_unit_closure c"
                    " JOIN admin_unit u ON u.hierarchy = c.hierarchy AND u.code = c.ancestor_code"
                    " WHERE c.hierarchy = '2025' AND c.descendant_code = '20398'"
                    " ORDER BY c.ancestor_level"
                )
            )
        ).all()
        assert [(a[0], a[1]) for a in ancestors] == [
            ("commune", "Phường Hội An"),
            ("province", "Thành phố Đà Nẵng"),
        ]
        assert all(str(a[2]) == "2025-07-01" for a in ancestors)
        legacy_end = await conn.scalar(
            text("SELECT max(valid_to) FROM admin_unit WHERE hierarchy = '2020'")
        )
        assert str(legacy_end) == "2025-06-30"


def test_every_unit_of_every_hierarchy_has_its_population() -> None:
    for unit in (*legacy_units(), *units_2025()):
        assert unit.population and unit.population > 0, unit


@pytest.mark.integration
async def test_hierarchies_by_the_date_they_took_effect_old_names_and_as_of(api: Any) -> None:
    async def codes(**params: str) -> list[str]:
        response = await api.get("/api/v1/units", params=params)
        assert response.status_code == 200, response.text
        return [root["code"] for root in response.json()]

    legacy, reform = await codes(hierarchy="2025-01-01"), await codes(hierarchy="2025-07-01")
    assert legacy == await codes(hierarchy="2020") == await codes() == ["49"]
    assert reform == await codes(hierarchy="2025") == [CITY_2025_CODE]
    assert await codes(as_of="2025-06-30") == legacy
    assert await codes(as_of="2025-07-01") == reform
    city = await api.get(f"/api/v1/units/{CITY_2025_CODE}", params={"as_of": "2026-01-01"})
    assert city.status_code == 200 and city.json()["population"] > 1_000_000
    clash = await api.get(
        "/api/v1/units", params={"hierarchy": "2025-07-01", "as_of": "2025-01-02"}
    )
    assert clash.status_code == 422
    assert (await api.get("/api/v1/units", params={"hierarchy": "2019"})).status_code == 422

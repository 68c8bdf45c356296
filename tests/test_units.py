"""Administrative units: populations, the 2025 crosswalk, and both hierarchies in the store."""

from __future__ import annotations

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
    assert sum(u.population or 0 for u in new.values()) == sum(
        u.population or 0 for u in communes()
    )
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

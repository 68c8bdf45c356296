"""API answers on a real PostgreSQL: clear 404/422s for bad questions, sums that roll up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.writer import RawMessage, Writer
from models.events import dump_event
from models.settings import Settings
from models.sources import source_registry
from models.units import communes
from simulators.health import HealthEncounterStream
from simulators.runner import collect
from tests.conftest import ADMIN_API_KEY
from tests.helpers import app_client

pytestmark = pytest.mark.integration

START = datetime(2025, 6, 2, 0, tzinfo=UTC)
END = datetime(2025, 6, 2, 6, tzinfo=UTC)
VALUES = "/api/v1/indicators/{}/values"


@pytest.fixture
async def client(clean_db: AsyncEngine, database_url: str) -> AsyncIterator[AsyncClient]:
    async with app_client(database_url, settings=Settings(admin_api_key=ADMIN_API_KEY)) as client:
        yield client


async def test_health_checks(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    await client.get("/api/v1/indicators/health.nope/values")
    metrics = (await client.get("/metrics", headers={"X-API-Key": ADMIN_API_KEY})).text
    assert 'route="/api/v1/indicators/{code}/values",status="404"} 1.0' in metrics
    assert "ioc_stream_clients 0.0" in metrics


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        (VALUES.format("health.nope"), {}, 404, "health.encounters"),
        (VALUES.format("health.encounters"), {"unit": "99999"}, 404, "Unknown unit"),
        (VALUES.format("health.encounters"), {"unit": "502", "level": "province"}, 422, "district"),
        (
            VALUES.format("health.encounters"),
            {"from": "2025-06-02T00:00:00Z", "to": "2025-06-01T00:00:00Z"},
            422,
            "must be after",
        ),
        (
            VALUES.format("health.encounters"),
            {"bucket": "hour", "from": "2024-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
            422,
            "too long",
        ),
        (VALUES.format("health.encounters"), {"from": "yesterday"}, 422, "datetime"),
        (
            VALUES.format("health.encounters"),
            {"level": "commune", "bucket": "hour", "from": "2025-01-01", "to": "2025-02-01"},
            422,
            "more than 50000",
        ),
        (VALUES.format("health.encounters"), {"bucket": "fortnight"}, 422, "hour"),
        (  # the bucket after December 9999 is past datetime's range: a 422, not a 500
            "/api/v1/indicators/health.encounters/ranking",
            {"period": "9999-12-15T00:00:00+07:00"},
            422,
            "between 2000 and 2100",
        ),
        (
            "/api/v1/indicators/ps.avg_processing_days/ranking",
            {"period": "0001-01-01T00:00:00+07:00", "bucket": "year"},
            422,
            "between 2000 and 2100",
        ),
    ],
)
async def test_bad_questions_get_clear_answers(
    client: AsyncClient, path: str, params: dict[str, str], status: int, message: str
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == status
    assert message in response.text


async def test_shares_and_counts_roll_up_from_communes(
    client: AsyncClient, clean_db: AsyncEngine
) -> None:
    events = collect([HealthEncounterStream(seed=4)], START, END)
    messages = [RawMessage("t", 0, i, None, dump_event(e)) for i, e in enumerate(events)]
    result = await Writer(clean_db).write(messages)
    assert result.inserted == len(events)

    window = {"from": START.isoformat(), "to": END.isoformat(), "bucket": "day"}
    by_commune = (
        await client.get(
            VALUES.format("health.encounters"), params={**window, "unit": "503", "level": "commune"}
        )
    ).json()["values"]
    hoi_an = {u.code for u in communes() if u.parent_code == "503"}
    assert {v["unit_code"] for v in by_commune} <= hoi_an
    assert sum(v["value"] for v in by_commune) == sum(e["subject"] in hoi_an for e in events) > 0

    share = (await client.get(VALUES.format("health.emergency_share"), params=window)).json()[
        "values"
    ]
    emergencies = sum(e["data"]["encounter_class"] == "emergency" for e in events)
    assert len(share) == 1
    assert share[0]["numerator"] == emergencies
    assert share[0]["denominator"] == len(events)
    assert share[0]["value"] == round(100 * emergencies / len(events), 2)
    assert share[0]["period_start"].endswith("+07:00")


async def test_units_tree_and_detail_in_both_hierarchies(client: AsyncClient) -> None:
    tree = (await client.get("/api/v1/units")).json()
    assert [u["code"] for u in tree] == ["49"]
    districts = tree[0]["children"]
    assert len(districts) == 17 and all(d["level"] == "district" for d in districts)
    assert sum(len(d["children"]) for d in districts) == len(communes())
    assert tree[0]["lat"] is not None

    hoi_an = (await client.get("/api/v1/units/503")).json()
    assert [a["code"] for a in hoi_an["ancestors"]] == ["49"]
    assert {c["code"] for c in hoi_an["children"]} == {
        u.code for u in communes() if u.parent_code == "503"
    }

    city = (await client.get("/api/v1/units", params={"hierarchy": "2025"})).json()
    assert len(city) == 1 and all(c["level"] == "commune" for c in city[0]["children"])
    missing = await client.get("/api/v1/units/503", params={"hierarchy": "2025"})
    assert missing.status_code == 404 and city[0]["code"] in missing.json()["detail"]
    no_district = await client.get(
        VALUES.format("health.encounters"), params={"hierarchy": "2025", "level": "district"}
    )
    assert no_district.status_code == 422 and "commune" in no_district.json()["detail"]


async def test_catalogue_by_sector(client: AsyncClient) -> None:
    everything = (await client.get("/api/v1/indicators")).json()
    public_services = (await client.get("/api/v1/indicators?sector=public_service")).json()
    assert len(everything) >= 20 and 0 < len(public_services) < len(everything)
    assert {i["sector"] for i in public_services} == {"public_service"}
    # the plural of earlier versions still filters, answered in the one spelling
    legacy = (await client.get("/api/v1/indicators?sector=public_services")).json()
    assert legacy == public_services
    assert (await client.get("/api/v1/indicators?sector=weather")).status_code == 422


async def test_each_app_expects_the_sources_at_its_own_volume_scale(
    clean_db: AsyncEngine, database_url: str
) -> None:
    """``IOC_VOLUME_SCALE`` reaches the sources view through the app's settings: a second
    app made at another scale in the same process leaves the first one's answers alone."""
    his, scale = "his/TTYT-502", 0.25
    params = {"from": "2025-06-02T00:00:00+07:00", "to": "2025-06-03T00:00:00+07:00"}
    headers = {"X-API-Key": ADMIN_API_KEY}
    expected = {}
    full = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0)
    scaled = full.model_copy(update={"volume_scale": scale})
    async with (
        app_client(database_url, settings=full) as one,
        app_client(database_url, settings=scaled) as other,
    ):
        for name, client in (("one", one), ("other", other)):
            answer = await client.get("/api/v1/sources", params=params, headers=headers)
            assert answer.status_code == 200, answer.text
            expected[name] = next(s["expected"] for s in answer.json() if s["source"] == his)
    per_hour = {s: {x.code: x for x in source_registry(s)}[his].expected_per_hour
                for s in (1.0, scale)}  # fmt: skip
    assert per_hour[scale] < per_hour[1.0]
    assert expected["other"] / expected["one"] == pytest.approx(
        per_hour[scale] / per_hour[1.0], rel=1e-3
    )

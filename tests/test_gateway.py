"""The HTTP ingest gateway: API key with the ingest role, a verdict per event, and accepted
events reach the store through the same topics and consumer as every other source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.service import Role, issue_key
from models.events import MAX_EVENT_BYTES
from models.settings import Settings
from tests import ingest_builders as b
from tests.helpers import app_client, running_consumer, scalar, wait_for

pytestmark = pytest.mark.integration

ADMIN = "gateway-test-admin-key-0123456789"
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


@pytest.fixture
async def gateway(
    clean_db: AsyncEngine, database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> AsyncIterator[AsyncClient]:
    settings = Settings(admin_api_key=ADMIN, topic_prefix=topic_prefix)
    async with app_client(database_url, kafka_bootstrap, settings) as client:
        yield client


async def _key(engine: AsyncEngine, role: Role) -> str:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM api_key WHERE name LIKE 'gateway-test-%'"))
        _, key = await issue_key(conn, name=f"gateway-test-{role}", role=role)
    return key


async def test_only_ingest_and_admin_keys_may_post(
    gateway: AsyncClient, clean_db: AsyncEngine
) -> None:
    body = [b.encounter(T0)]
    assert (await gateway.post("/api/v1/events", json=body)).status_code == 401
    wrong = await gateway.post("/api/v1/events", json=body, headers={"X-API-Key": "ioc_nope"})
    assert wrong.status_code == 401
    operator = await _key(clean_db, Role.OPERATOR)
    denied = await gateway.post("/api/v1/events", json=body, headers={"X-API-Key": operator})
    assert denied.status_code == 403
    assert "ingest" in denied.json()["detail"]
    ingest = await _key(clean_db, Role.INGEST)
    by_header = await gateway.post("/api/v1/events", json=body, headers={"X-API-Key": ingest})
    by_bearer = await gateway.post(
        "/api/v1/events", json=body, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert (by_header.status_code, by_bearer.status_code) == (200, 200)


async def test_a_verdict_per_event_and_the_accepted_ones_are_stored(
    gateway: AsyncClient, clean_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    good = [b.encounter(T0 + timedelta(minutes=i), i) for i in range(3)]
    good += [b.dossier("D-77", "received", T0, T0)]
    bad = [
        {**good[0], "subject": "99999"},
        {**good[0], "source": "his/NOT-REGISTERED"},
        {**good[0], "type": "vn.gov.quangnam.nope"},
        {**good[0], "data": {"encounter_class": "spa"}},
        {**good[0], "data": {**good[0]["data"], "icd_code": "x" * MAX_EVENT_BYTES}},
        "not an object",
    ]
    response = await gateway.post(
        "/api/v1/events", json=[*good, *bad], headers={"X-API-Key": ADMIN}
    )
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert (verdict["accepted"], verdict["rejected"]) == (4, 6)
    reasons = [r["reason"] for r in verdict["results"]]
    assert reasons == [None] * 4 + [
        "unknown_unit",
        "unknown_source",
        "unknown_type",
        "schema",
        "too_large",
        "bad_json",
    ]
    assert [r["id"] for r in verdict["results"][:4]] == [d["id"] for d in good]

    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await wait_for(lambda: seen.inserted >= 4, what="the accepted events stored")
    assert await scalar(clean_db, "SELECT count(*) FROM health_encounter") == 3
    assert await scalar(clean_db, "SELECT count(*) FROM public_service_dossier") == 1


async def test_oversized_batches_and_a_missing_broker_are_refused_whole(
    gateway: AsyncClient, clean_db: AsyncEngine, database_url: str
) -> None:
    many = [b.encounter(T0)] * 1001
    too_many = await gateway.post("/api/v1/events", json=many, headers={"X-API-Key": ADMIN})
    assert too_many.status_code == 413
    not_a_list = await gateway.post("/api/v1/events", json={}, headers={"X-API-Key": ADMIN})
    assert not_a_list.status_code == 422

    async with app_client(database_url, None, Settings(admin_api_key=ADMIN)) as client:
        response = await client.post(
            "/api/v1/events", json=[b.encounter(T0)], headers={"X-API-Key": ADMIN}
        )
        assert response.status_code == 503
        assert "IOC_KAFKA_BOOTSTRAP" in response.json()["detail"]

"""What the API refuses before it costs anything: oversize bodies (413 while they arrive),
bodies from callers without a key (never read), NUL characters (422), JSON nested past
orjson's limit (a verdict, not a 500), keys in logs, and a broker known to be down."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.gateway.publisher import BrokerHealth
from app.main import create_app
from app.resources import resources_of
from ioc.embedded import free_port
from models.settings import Settings
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY
from tests.helpers import app_client
from tests.serving import serving

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
EVENTS = "/api/v1/events"
ADMIN = {"X-API-Key": ADMIN_API_KEY}


class Upload:
    """A streamed request body (no Content-Length) that counts the chunks pulled from it."""

    def __init__(self, chunks: int, size: int = 256 * 1024) -> None:
        self.chunks, self.size, self.pulled = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"["
        for _ in range(self.chunks):
            self.pulled += 1
            yield b" " * self.size
        yield b"]"


async def test_a_body_over_the_limit_is_a_413_while_it_arrives(database_url: str, api: Any) -> None:
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0, max_body_bytes=10**6)
    async with app_client(database_url, "127.0.0.1:1", settings) as client:
        declared = await client.post(EVENTS, content=b"[" + b" " * 2 * 10**6 + b"]", headers=ADMIN)
        assert declared.status_code == 413
        upload = Upload(chunks=40)  # 10 MB without a Content-Length
        streamed = await client.post(EVENTS, content=upload, headers=ADMIN)
        assert streamed.status_code == 413
        assert upload.pulled < 10, "the upload was read past the limit"
        # Other routes take small bodies only.
        keys = await client.post(
            "/api/v1/auth/keys", content=b"{" + b" " * 100_000 + b"}", headers=ADMIN
        )
        assert keys.status_code == 413


async def test_the_key_is_checked_before_the_body_is_read(api: Any) -> None:
    for headers in ({}, {"X-API-Key": "ioc_wrong"}):
        upload = Upload(chunks=8)
        response = await api.post(EVENTS, content=upload, headers=headers)
        assert response.status_code == 401
        assert upload.pulled == 0


async def test_nul_in_any_path_or_query_parameter_is_a_422(api: Any) -> None:
    urls = [
        "/api/v1/units/%00",
        "/api/v1/units?hierarchy=%00",
        "/api/v1/indicators/%00",
        "/api/v1/indicators/health.encounters/values?unit=%00",
        "/api/v1/indicators/health.encounters/ranking?period=2025-06-01&unit=%00",
        "/api/v1/export/health.encounters.csv?unit=%00",
        "/api/v1/alerts?unit=%00",
        "/api/v1/alerts?indicator=%00",
        "/api/v1/sources?source=%00",
        "/api/v1/stream?unit=%00",
        "/wall?x=%00",
    ]
    for url in urls:
        response = await api.get(url, headers=ADMIN)
        assert response.status_code == 422, (url, response.status_code)
        assert "NUL" in response.json()["detail"]
    named = await api.post(
        "/api/v1/auth/keys", json={"name": "a\u0000b", "role": "public"}, headers=ADMIN
    )
    assert named.status_code == 422, named.text


def _nested(depth: int) -> Any:
    doc: Any = 1
    for _ in range(depth):
        doc = {"a": doc}
    return doc


async def test_json_nested_past_the_limits_is_refused_not_a_500(
    database_url: str, api: Any
) -> None:
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0)
    async with app_client(database_url, "127.0.0.1:1", settings) as client:
        deep = {**b.encounter(T0), "data": _nested(300)}  # past orjson's 254 on the way out
        verdict = await client.post(EVENTS, json=[deep], headers=ADMIN)
        assert verdict.status_code == 200, verdict.text
        assert verdict.json()["results"][0]["reason"] == "bad_json"
        deeper = "[" + '{"a":' * 2000 + "1" + "}" * 2000 + "]"  # past orjson's parse limit
        refused = await client.post(EVENTS, content=deeper, headers=ADMIN)
        assert refused.status_code == 422, refused.text


async def test_the_gateway_fails_fast_while_the_broker_is_known_down(database_url: str) -> None:
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0)
    broker = f"127.0.0.1:{free_port()}"  # nothing listens
    async with app_client(database_url, broker, settings) as client:
        publisher = resources_of(client.app).publisher  # type: ignore[attr-defined]
        calls = 0
        publish = publisher.publish

        async def counted(messages: Any) -> None:
            nonlocal calls
            calls += 1
            await publish(messages)

        publisher.publish = counted
        body = [b.encounter(T0)]
        first = await client.post(EVENTS, json=body, headers=ADMIN)
        assert first.status_code == 503
        assert first.headers["Retry-After"] == "10"
        for _ in range(5):
            again = await client.post(EVENTS, json=body, headers=ADMIN)
            assert again.status_code == 503
            assert "broker is down" in again.json()["detail"]
        assert calls == 1, "a request waited on a broker already known to be down"
        assert (await client.get("/readyz")).json()["broker"].startswith("unreachable")


async def test_broker_health_comes_back_with_the_broker(kafka_bootstrap: str) -> None:
    health = BrokerHealth(kafka_bootstrap)
    health.mark_down()
    assert health.down
    assert await health.probe()
    assert not health.down and await health.usable()


async def test_keys_never_reach_uvicorns_access_log(
    database_url: str, api: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = "ioc_secret-key-value-0123456789"
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0)
    app = create_app(database_url, settings=settings)
    keep = Keep()
    async with serving(app, access_log=True, log_level="info") as base:
        for name in ("uvicorn.access", "uvicorn.error"):
            logging.getLogger(name).addHandler(keep)
        try:
            async with httpx.AsyncClient(base_url=base) as client:
                await client.get(f"/api/v1/auth/me?api_key={secret}")
                await client.get(f"/api/v1/units?x=1&api_key={secret}&y=2")
                await client.get("/api/v1/units", headers={"X-API-Key": secret})
        finally:
            for name in ("uvicorn.access", "uvicorn.error"):
                logging.getLogger(name).removeHandler(keep)
    printed = capfd.readouterr()
    assert any("/api/v1/auth/me?api_key=***" in line for line in lines), lines
    assert any("x=1&api_key=***&y=2" in line for line in lines), lines
    for text in (*lines, printed.out, printed.err):
        assert secret not in text

"""A database that goes away, or a pool that runs dry, is a 503 with Retry-After on every
route that needs it — never a 500, and the client's keep-alive connection stays open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.main import create_app
from app.resources import resources_of
from ingest.retry import BACKOFF_MAX_S
from models.settings import Settings
from tests.helpers import HANG_GUARD, wait_for
from tests.serving import TcpProxy, serving

pytestmark = pytest.mark.integration

ADMIN = "outage-test-admin-key-0123456789"
WINDOW = {"from": "2025-06-01T00:00:00+07:00", "to": "2025-06-03T00:00:00+07:00"}
WRONG_KEY = {"X-API-Key": "ioc_not-a-stored-key"}  # checked against the stored keys
ADMIN_KEY = {"X-API-Key": ADMIN}

# Every route that reads the database, and the stored-key check on an open route.
NEEDS_DATABASE: list[tuple[str, str, dict[str, str], dict[str, str]]] = [
    ("GET", "/api/v1/indicators/health.encounters/values", WINDOW, {}),
    ("GET", "/api/v1/indicators/ps.on_time_rate/ranking", {"period": "2025-06-01"}, {}),
    ("GET", "/api/v1/units", {}, {}),
    ("GET", "/api/v1/units/503", {}, {}),
    ("GET", "/api/v1/export/health.encounters.csv", WINDOW, {}),
    ("GET", "/api/v1/sources", WINDOW, ADMIN_KEY),
    ("GET", "/api/v1/alerts", {}, ADMIN_KEY),
    ("GET", "/api/v1/alerts/1", {}, ADMIN_KEY),
    ("POST", "/api/v1/alerts/1/ack", {}, ADMIN_KEY),
    ("GET", "/api/v1/auth/keys", {}, ADMIN_KEY),
    ("GET", "/api/v1/stream", {"unit": "503"}, {}),
    ("GET", "/api/v1/indicators", {}, WRONG_KEY),
    ("GET", "/api/v1/auth/me", {}, WRONG_KEY),
]


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(database_url)
    socket_dir = url.query.get("host")  # the embedded PostgreSQL listens on a unix socket
    unix = f"{socket_dir}/.s.PGSQL.{url.port or 5432}" if isinstance(socket_dir, str) else None
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432, unix)
    await proxy.restore()
    try:
        yield proxy
    finally:
        await proxy.cut()


def _through(database_url: str, proxy: TcpProxy) -> str:
    url = make_url(database_url).difference_update_query(["host"])
    url = url.set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


async def test_a_database_outage_is_a_503_everywhere_and_the_connection_stays_open(
    engine: AsyncEngine, database_url: str, proxy: TcpProxy
) -> None:
    settings = Settings(admin_api_key=ADMIN, alert_interval_seconds=0)
    app = create_app(_through(database_url, proxy), settings=settings)
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        before = await client.get("/api/v1/units")
        assert before.status_code == 200, before.text
        hub = resources_of(app).hub
        await asyncio.wait_for(hub.listening.wait(), HANG_GUARD)

        await proxy.cut()
        await wait_for(lambda: not hub.listening.is_set(), HANG_GUARD, "the hub to lose LISTEN")
        statuses = []
        for method, path, params, headers in NEEDS_DATABASE:
            response = await client.request(method, path, params=params, headers=headers)
            statuses.append((path, response.status_code))
            if response.status_code == 503:
                assert response.headers["Retry-After"] == "5"
                assert "database is unavailable" in response.json()["detail"]
                assert response.headers.get("connection") != "close", path
        assert statuses == [(path, 503) for _, path, _, _ in NEEDS_DATABASE]
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()["database"][:11]) == (503, "unreachable")

        await proxy.restore()
        after = await client.get("/api/v1/units")
        assert after.status_code == 200, after.text
        # The live stream's LISTEN is made again by itself (waits grow to 30 s at most).
        await wait_for(hub.listening.is_set, 2 * BACKOFF_MAX_S, "the hub to LISTEN again")


async def test_an_exhausted_pool_is_a_503_after_the_wait(api: httpx.AsyncClient) -> None:
    app: Any = api.app  # type: ignore[attr-defined]
    from models.db import make_engine

    resources = resources_of(app)
    small = make_engine(resources.database_url, pool_size=1, pool_timeout=0.2)
    original, resources.engine = resources.engine, small
    held: list[AsyncConnection] = []
    try:
        held.append(await small.connect())
        for _ in range(10):  # the default overflow: every connection the pool may open
            held.append(await small.connect())
        busy = await api.get("/api/v1/units")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert "busy" in busy.json()["detail"]
        await asyncio.gather(*(c.close() for c in held))
        held.clear()
        assert (await api.get("/api/v1/units")).status_code == 200
    finally:
        await asyncio.gather(*(c.close() for c in held))
        resources.engine = original
        await small.dispose()

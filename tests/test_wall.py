"""The wall page is served, and every API route it calls exists in the OpenAPI schema."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(engine: AsyncEngine, database_url: str) -> AsyncIterator[AsyncClient]:
    app = create_app(database_url)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def test_the_wall_page_calls_only_routes_the_api_has(client: AsyncClient) -> None:
    page = await client.get("/wall")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "new EventSource(`/api/v1/stream" in page.text

    schema = (await client.get("/openapi.json")).json()
    templates = [re.sub(r"\{[^}]+\}", "[^/?]+", p) for p in schema["paths"]]
    route = r'(?:api\(|`|")(/(?:indicators|units|alerts|sources)[^"`?]*)'
    called = {re.sub(r"\$\{[^}]+\}", "x", path) for path in re.findall(route, page.text)}
    assert {"/indicators", "/units", "/sources", "/alerts"} <= called
    for path in called:
        assert any(re.fullmatch(t, "/api/v1" + path) for t in templates), path

"""The wall page: served under a strict CSP with no inline code, its assets served, every API
route its scripts call present in the OpenAPI schema, its map cells and its 766 mapping."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from models.catalogue import CATALOGUE
from models.service_index import DECISION_766
from tests.helpers import app_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(engine: AsyncEngine, database_url: str) -> AsyncIterator[AsyncClient]:
    async with app_client(database_url) as client:
        yield client


async def test_the_page_has_no_inline_code_and_its_assets_are_served(
    client: AsyncClient,
) -> None:
    page = await client.get("/wall")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)  # no inline script
    assert "<style" not in page.text and " style=" not in page.text
    assert not re.search(r"\son[a-z]+=", page.text)  # no inline event handlers
    assets = re.findall(r'(?:src|href)="(/wall/assets/[^"]+)"', page.text)
    assert {"/wall/assets/wall.js", "/wall/assets/wall.css"} <= set(assets)
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200, asset
    assert (await client.get("/wall/assets/../endpoints.py")).status_code == 404
    assert (await client.get("/wall/assets/nope.js")).status_code == 404


async def test_the_scripts_call_only_routes_the_api_has(client: AsyncClient) -> None:
    page = (await client.get("/wall")).text
    scripts = [(await client.get("/wall/assets/wall.js")).text]
    imported = set(re.findall(r'from "\./([a-z0-9]+\.js)"', scripts[0]))
    scripts += [(await client.get(f"/wall/assets/{name}")).text for name in imported]
    source = page + "".join(scripts)
    schema = (await client.get("/openapi.json")).json()
    templates = [re.sub(r"\{[^}]+\}", "[^/?]+", p) for p in schema["paths"]]
    route = r'(?:api\(|`|")(/(?:indicators|units|alerts|sources|auth|service-index)[^"`?]*)'
    called = {re.sub(r"\$\{[^}]+\}", "x", path) for path in re.findall(route, source)}
    assert {"/indicators", "/units", "/sources", "/alerts", "/service-index"} <= called
    for path in called:
        assert any(re.fullmatch(t, "/api/v1" + path) for t in templates), path
    assert "new EventSource(`/api/v1/stream" in source


async def test_map_cells_for_both_hierarchies(client: AsyncClient) -> None:
    units = {h: (await client.get(f"/api/v1/units?hierarchy={h}")).json() for h in ("2020", "2025")}
    communes_2020 = {c["code"] for d in units["2020"][0]["children"] for c in d["children"]}
    communes_2025 = {c["code"] for c in units["2025"][0]["children"]}
    for hierarchy, communes in (("2020", communes_2020), ("2025", communes_2025)):
        cells = (await client.get(f"/wall/cells?hierarchy={hierarchy}")).json()
        assert {c["code"] for c in cells["cells"]} == communes
        assert cells["width"] == 1000 and cells["height"] > 0
    assert (await client.get("/wall/cells?hierarchy=1999")).status_code == 422


async def test_the_766_mapping_is_served_and_sound(client: AsyncClient) -> None:
    served = (await client.get("/api/v1/service-index")).json()
    assert [g["weight"] for g in served["groups"]] == [18, 20, 22, 22, 18]
    assert sum(g.weight for g in DECISION_766.groups) == 100
    catalogue = {i.code: i for i in CATALOGUE}
    for group in DECISION_766.groups:
        for code in group.indicators:
            assert catalogue[code].unit == "%" and catalogue[code].higher_is_better, code

"""The interactive API docs come from the API's own files (a closed network has no CDN) and
keep the strict page policy: scripts and styles from this origin only."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.integration
LINKED = re.compile(r"""\b(?:src|href|spec-url|data-openapi)="([^"]*)\"""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_load_only_their_own_files(api: Any, page: str) -> None:
    response = await api.get(page)
    assert response.status_code == 200
    linked = LINKED.findall(response.text)
    assert len(linked) >= 3, linked  # the bundle, the favicon, the OpenAPI document
    assert all(url.startswith("/") and not url.startswith("//") for url in linked), linked
    for url in linked:
        asset = await api.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0, url
    policy = response.headers["Content-Security-Policy"]
    assert "http" not in policy and "'unsafe-inline'" not in policy, policy
    assert "script-src 'self';" in policy, policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)  # no inline script


async def test_the_vendored_assets_have_their_types_and_licences(api: Any) -> None:
    types = {
        "/static/vendor/swagger-ui/swagger-ui-bundle.js": "text/javascript",
        "/static/vendor/swagger-ui/swagger-ui.css": "text/css",
        "/static/vendor/redoc/redoc.standalone.js": "text/javascript",
        "/static/docs/swagger-init.js": "text/javascript",
        "/static/vendor/swagger-ui/LICENSE": "",
        "/static/vendor/redoc/LICENSE": "",
    }
    for url, kind in types.items():
        response = await api.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(kind), (url, response.headers)
    assert (await api.get("/static/../main.py")).status_code == 404

"""Security headers on every response (a strict CSP on HTML), /metrics behind a role, and
rate limits on failed key checks (per address) and on gateway events (per key)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from app.auth.service import Role, issue_key
from models.settings import Settings
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY
from tests.helpers import app_client

pytestmark = pytest.mark.integration
ADMIN = {"X-API-Key": ADMIN_API_KEY}
WRONG = {"X-API-Key": "ioc_guessed-key-0000000000"}


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


async def test_every_response_has_security_headers_and_html_a_strict_policy(api: Any) -> None:
    for path in ("/api/v1/units", "/healthz", "/api/v1/nope", "/wall", "/docs"):
        response = await api.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
    assert (
        (await api.get("/api/v1/units"))
        .headers["Content-Security-Policy"]
        .startswith("default-src 'none'")
    )

    wall = await api.get("/wall")
    policy = wall.headers["Content-Security-Policy"]
    scripts = re.search(r"script-src ([^;]*)", policy)
    assert scripts is not None
    allowed = scripts.group(1).split()
    assert "'unsafe-inline'" not in allowed and "'unsafe-eval'" not in allowed
    assert set(allowed) - {"'self'"} <= {a for a in allowed if a.startswith("'sha256-")}
    # Any inline script still in the page is admitted by its own hash, and only so.
    for body in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", wall.text, re.DOTALL):
        assert _sha256(body) in allowed


async def test_metrics_need_an_operator_key(api: Any, clean_db: Any) -> None:
    async with clean_db.begin() as conn:
        _, public = await issue_key(conn, name="metrics-public", role=Role.PUBLIC)
        _, operator = await issue_key(conn, name="metrics-operator", role=Role.OPERATOR)
    assert (await api.get("/metrics")).status_code == 401
    assert (await api.get("/metrics", headers={"X-API-Key": public})).status_code == 403
    allowed = await api.get("/metrics", headers={"Authorization": f"Bearer {operator}"})
    assert allowed.status_code == 200 and "ioc_api_requests" in allowed.text


async def test_failed_key_checks_are_limited_per_address(database_url: str, api: Any) -> None:
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0,
                        auth_failures_per_minute=3)  # fmt: skip
    async with app_client(database_url, settings=settings) as client:
        statuses = [(await client.get("/api/v1/units", headers=WRONG)).status_code
                    for _ in range(3)]  # fmt: skip
        assert statuses == [401, 401, 401]
        throttled = await client.get("/api/v1/units", headers=WRONG)
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) >= 1
        # Every key check from the address waits, a right guess included.
        assert (await client.get("/api/v1/units", headers=ADMIN)).status_code == 429
        stream = await client.get("/api/v1/stream", params={"api_key": "ioc_guess"})
        assert stream.status_code == 429
        # Reading without a key stays open.
        assert (await client.get("/api/v1/units")).status_code == 200


async def test_gateway_events_are_limited_per_key(database_url: str, api: Any) -> None:
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0,
                        gateway_events_per_second=1)  # fmt: skip
    at = datetime.now(UTC)
    async with app_client(database_url, None, settings) as client:  # no broker: tokens spent
        full = await client.post("/api/v1/events", json=[b.encounter(at)] * 1000, headers=ADMIN)
        assert full.status_code == 503  # the quota let the batch through; no broker here
        over = await client.post("/api/v1/events", json=[b.encounter(at)], headers=ADMIN)
        assert over.status_code == 429
        assert "IOC_GATEWAY_EVENTS_PER_SECOND" in over.json()["detail"]
        assert int(over.headers["Retry-After"]) >= 1

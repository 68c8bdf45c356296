"""Auth matrix: every role against every route, keys stored hashed, clear 401/403 messages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth import require_role
from app.resources import get_resources, resources_of
from tests.conftest import ADMIN_API_KEY
from tests.helpers import app_client

pytestmark = pytest.mark.integration

ROLES = ("anonymous", "wrong", "public", "wall", "operator", "ingest", "admin", "bootstrap")
RANK = {"public": {"public", "wall", "operator", "ingest", "admin"},
        "wall": {"wall", "operator", "admin"}, "operator": {"operator", "admin"},
        "ingest": {"ingest", "admin"}, "admin": {"admin"}}  # fmt: skip
WINDOW = {"from": "2025-06-01T00:00:00+07:00", "to": "2025-06-03T00:00:00+07:00"}

# (method, path, params, role needed, status when allowed)
ROUTES: list[tuple[str, str, dict[str, str], str, int]] = [
    ("GET", "/api/v1/indicators", {}, "public", 200),
    ("GET", "/api/v1/indicators/health.encounters", {}, "public", 200),
    ("GET", "/api/v1/indicators/health.encounters/values", WINDOW, "public", 200),
    ("GET", "/api/v1/indicators/ps.on_time_rate/ranking", {"period": "2025-06-01"}, "public", 200),
    ("GET", "/api/v1/indicators/data.completeness/values", WINDOW, "wall", 200),
    ("GET", "/api/v1/units", {}, "public", 200),
    ("GET", "/api/v1/units/503", {}, "public", 200),
    ("GET", "/api/v1/export/health.encounters.csv", WINDOW, "public", 200),
    ("GET", "/api/v1/export/data.on_time_share.json", WINDOW, "wall", 200),
    ("GET", "/api/v1/auth/me", {}, "public", 200),
    ("GET", "/api/v1/sources", WINDOW, "wall", 200),
    ("GET", "/api/v1/alerts", {}, "wall", 200),
    ("GET", "/api/v1/alerts/rules", {}, "wall", 200),
    ("GET", "/api/v1/alerts/999", {}, "wall", 404),
    ("POST", "/api/v1/alerts/999/ack", {}, "operator", 404),
    ("POST", "/api/v1/alerts/999/resolve", {}, "operator", 404),
    ("GET", "/api/v1/auth/keys", {}, "admin", 200),
    ("DELETE", "/api/v1/auth/keys/999999", {}, "admin", 404),
    ("GET", "/healthz", {}, "public", 200),
    ("GET", "/readyz", {}, "public", 200),
    ("GET", "/metrics", {}, "operator", 200),
    ("GET", "/wall", {}, "public", 200),
    ("GET", "/api/v1/stream", {"unit": "00000"}, "public", 404),  # checked, then refused
    ("GET", "/api/v1/units/%00", {}, "public", 422),  # NUL: refused before any key check
    # The ingest gateway (its answers are tested with ingest); 0: allowed, any answer.
    ("POST", "/api/v1/events", {}, "ingest", 0),
]


async def _keys(api: AsyncClient) -> dict[str, dict[str, str]]:
    headers: dict[str, dict[str, str]] = {
        "anonymous": {},
        "bootstrap": {"X-API-Key": ADMIN_API_KEY},
        "wrong": {"X-API-Key": "ioc_not-a-key-anyone-was-given"},
    }
    for role in ("public", "wall", "operator", "ingest", "admin"):
        created = await api.post(
            "/api/v1/auth/keys",
            json={"name": f"{role} test", "role": role},
            headers={"X-API-Key": ADMIN_API_KEY},
        )
        assert created.status_code == 201, created.text
        # Alternate the two ways of sending a key, so both are exercised.
        key = created.json()["key"]
        headers[role] = (
            {"Authorization": f"Bearer {key}"}
            if role in ("operator", "admin")
            else {"X-API-Key": key}
        )
    return headers


def _allowed(role: str, needed: str) -> bool:
    if role == "wrong":
        return needed == "public"
    effective = "admin" if role == "bootstrap" else role
    return needed == "public" or effective in RANK[needed]


async def test_every_role_against_every_route(api: AsyncClient) -> None:
    headers = await _keys(api)
    failures = []
    for method, path, params, needed, ok in ROUTES:
        for role in ROLES:
            response = await api.request(method, path, params=params, headers=headers[role])
            assert response.status_code < 500, (role, method, path, response.text)
            expected = ok if _allowed(role, needed) else 401 if role == "anonymous" else 403
            checks_key = path.startswith("/api/v1/") or needed != "public"
            if role == "wrong" and checks_key and ok != 422:
                expected = 401  # a presented key is always checked under /api/v1
            if expected == 0:  # allowed; what the route then says is its own business
                if response.status_code in (401, 403):
                    failures.append(f"{role} {method} {path}: {response.status_code}")
            elif response.status_code != expected:
                failures.append(f"{role} {method} {path}: {response.status_code} != {expected}")
            elif expected == 401:
                detail = response.json()["detail"]
                assert "not valid" in detail if role == "wrong" else "X-API-Key" in detail
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
            elif expected == 403:
                assert f"needs the {needed} role" in response.json()["detail"]
    assert not failures, "\n".join(failures)


async def test_key_creation_route_is_admin_only(api: AsyncClient) -> None:
    headers = await _keys(api)
    body = {"name": "another", "role": "public"}
    for role in ROLES:
        response = await api.post("/api/v1/auth/keys", json=body, headers=headers[role])
        expected = (
            201
            if role in ("admin", "bootstrap")
            else 401
            if role in ("anonymous", "wrong")
            else 403
        )
        assert response.status_code == expected, (role, response.text)


async def test_ingest_role_dependency_for_the_gateway(api: AsyncClient) -> None:
    """``require_role("ingest")`` lets ingest and admin keys in, and nobody else."""
    headers = await _keys(api)
    app: Any = api.app  # type: ignore[attr-defined]
    probe = FastAPI()
    probe.dependency_overrides[get_resources] = lambda: resources_of(app)

    @probe.post("/events", dependencies=[Depends(require_role("ingest"))])
    async def events() -> dict[str, bool]:
        return {"ok": True}

    from app.kit.errors import ApiError

    @probe.exception_handler(ApiError)
    async def _err(request: Any, exc: ApiError) -> Any:
        from fastapi.responses import JSONResponse

        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    async with AsyncClient(transport=ASGITransport(app=probe), base_url="http://t") as client:
        for role in ROLES:
            status = (await client.post("/events", headers=headers[role])).status_code
            expected = (
                200
                if role in ("ingest", "admin", "bootstrap")
                else 401
                if role in ("anonymous", "wrong")
                else 403
            )
            assert status == expected, role


async def test_bad_and_revoked_keys_get_401(api: AsyncClient, clean_db: AsyncEngine) -> None:
    admin = {"X-API-Key": ADMIN_API_KEY}
    created = (
        await api.post(
            "/api/v1/auth/keys", json={"name": "wall", "role": "operator"}, headers=admin
        )
    ).json()
    key = created["key"]
    async with clean_db.connect() as conn:
        stored = (await conn.execute(text("SELECT key_hash, prefix FROM api_key"))).one()
    assert key not in stored.key_hash and len(stored.key_hash) == 64
    assert key.startswith(stored.prefix)

    assert (await api.get("/api/v1/alerts", headers={"X-API-Key": key})).status_code == 200
    assert (
        await api.delete(f"/api/v1/auth/keys/{created['id']}", headers=admin)
    ).status_code == 204
    revoked = await api.get("/api/v1/indicators", headers={"X-API-Key": key})
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]
    wrong = await api.get("/api/v1/indicators", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    me = (await api.get("/api/v1/auth/me")).json()
    assert me == {"role": "public", "name": "anonymous", "authenticated": False}


async def test_cors_lets_the_configured_wall_origin_in(database_url: str) -> None:
    from models.settings import Settings

    settings = Settings(cors_origins=["https://wall.example"])
    async with app_client(database_url, settings=settings) as client:
        preflight = await client.options(
            "/api/v1/alerts",
            headers={
                "Origin": "https://wall.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://wall.example"
        other = await client.options(
            "/api/v1/alerts",
            headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in other.headers

"""Liveness and readiness: what an orchestrator or the wall's watchdog polls."""

from __future__ import annotations

import asyncio
import socket

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, response: Response) -> dict[str, str]:
    """The database and the broker are reachable."""
    checks = {"database": "ok", "broker": "ok"}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        checks["database"] = f"unreachable: {type(exc).__name__}"
    bootstrap: str | None = request.app.state.kafka_bootstrap
    if bootstrap and not await _reachable(bootstrap):
        checks["broker"] = f"unreachable: {bootstrap}"
    if any(v != "ok" for v in checks.values()):
        response.status_code = 503
    return checks


async def _reachable(bootstrap: str) -> bool:
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 2)
        except (OSError, TimeoutError, ValueError, socket.gaierror):
            continue
        writer.close()
        return True
    return False

"""Key issuing outside a request (the ``ioc apikey create`` command)."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth import service
from app.auth.service import Role


async def create_key(engine: AsyncEngine, *, role: str, name: str) -> str:
    """Store a new key's hash and return the key."""
    try:
        checked = Role(role)
    except ValueError:
        raise typer.BadParameter(
            f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}"
        ) from None
    async with engine.begin() as conn:
        _, key = await service.issue_key(conn, name=name, role=checked)
    return key

"""SQL for API keys: looked up by hash, never stored in clear."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables_serving import ApiKey

_KEY = ApiKey.__table__


async def role_for_hash(conn: AsyncConnection, key_hash: str) -> tuple[str, str] | None:
    """``(role, name)`` of the live key with this hash, or None."""
    row = (
        await conn.execute(
            select(_KEY.c.role, _KEY.c.name).where(
                _KEY.c.key_hash == key_hash, _KEY.c.revoked_at.is_(None)
            )
        )
    ).first()
    return (row.role, row.name) if row else None


async def add_key(
    conn: AsyncConnection, *, name: str, role: str, key_hash: str, prefix: str
) -> int:
    stmt = (
        insert(ApiKey)
        .values(name=name, role=role, key_hash=key_hash, prefix=prefix)
        .returning(_KEY.c.id)
    )
    return int((await conn.execute(stmt)).scalar_one())


async def list_keys(conn: AsyncConnection) -> list[dict[str, object]]:
    rows = await conn.execute(
        select(
            _KEY.c.id, _KEY.c.name, _KEY.c.role, _KEY.c.prefix, _KEY.c.created_at,
            _KEY.c.revoked_at,
        ).order_by(_KEY.c.id)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]


async def revoke_key(conn: AsyncConnection, key_id: int) -> bool:
    """Revoke a live key; False when there is no such live key."""
    stmt = (
        update(ApiKey)
        .where(_KEY.c.id == key_id, _KEY.c.revoked_at.is_(None))
        .values(revoked_at=func.coalesce(_KEY.c.revoked_at, datetime.now(UTC)))
        .returning(_KEY.c.id)
    )
    return (await conn.execute(stmt)).first() is not None

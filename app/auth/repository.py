"""SQL for API keys: looked up by hash, never stored in clear."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables_serving import ApiKey

_KEY = ApiKey.__table__


@dataclass(frozen=True, slots=True)
class KeyRow:
    """An issued key as listed: never its hash."""

    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


_KEY_COLUMNS = [_KEY.c[f.name] for f in fields(KeyRow)]


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
) -> KeyRow:
    stmt = (
        insert(ApiKey)
        .values(name=name, role=role, key_hash=key_hash, prefix=prefix)
        .returning(*_KEY_COLUMNS)
    )
    return KeyRow(**(await conn.execute(stmt)).one()._mapping)


async def list_keys(conn: AsyncConnection) -> list[KeyRow]:
    rows = await conn.execute(select(*_KEY_COLUMNS).order_by(_KEY.c.id))
    return [KeyRow(**r._mapping) for r in rows]


async def revoke_key(conn: AsyncConnection, key_id: int) -> bool:
    """Revoke a live key; False when there is no such live key."""
    stmt = (
        update(ApiKey)
        .where(_KEY.c.id == key_id, _KEY.c.revoked_at.is_(None))
        .values(revoked_at=func.coalesce(_KEY.c.revoked_at, datetime.now(UTC)))
        .returning(_KEY.c.id)
    )
    return (await conn.execute(stmt)).first() is not None

"""SQL for administrative units."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import AdminUnit


async def get_unit(conn: AsyncConnection, code: str, hierarchy: str) -> AdminUnit | None:
    row = (
        await conn.execute(
            select(AdminUnit.__table__).where(
                AdminUnit.code == code, AdminUnit.hierarchy == hierarchy
            )
        )
    ).first()
    return AdminUnit(**row._mapping) if row else None


async def top_units(conn: AsyncConnection, hierarchy: str) -> list[str]:
    rows = await conn.execute(
        select(AdminUnit.code).where(
            AdminUnit.hierarchy == hierarchy, AdminUnit.parent_code.is_(None)
        )
    )
    return list(rows.scalars())

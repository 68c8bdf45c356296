"""SQL for alerts: the lifecycle lives in the table, one unresolved alert per rule and unit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables_serving import Alert

_ALERT = Alert.__table__
Row = dict[str, Any]


async def unresolved(conn: AsyncConnection, rule_code: str) -> dict[str, Row]:
    """Open or acknowledged alerts of a rule, by unit."""
    rows = await conn.execute(
        select(_ALERT).where(_ALERT.c.rule_code == rule_code, _ALERT.c.status != "resolved")
    )
    return {r.unit_code: dict(r._mapping) for r in rows}


async def open_alert(conn: AsyncConnection, values: Row) -> Row | None:
    """Insert an open alert; None when one is already unresolved for the rule and unit."""
    stmt = (
        insert(Alert)
        .values(**values)
        .on_conflict_do_nothing(
            # A literal predicate: with a bound parameter PostgreSQL cannot match the partial
            # index once psycopg prepares the statement (generic plan).
            index_elements=["rule_code", "unit_code"],
            index_where=text("status <> 'resolved'"),
        )
        .returning(_ALERT)
    )
    row = (await conn.execute(stmt)).first()
    return dict(row._mapping) if row else None


async def refresh(
    conn: AsyncConnection,
    alert_id: int,
    *,
    value: float | None,
    threshold: float | None,
    period_start: datetime,
    message: str,
) -> None:
    """The alert's current value (and window, reference and text) while it stays open."""
    await conn.execute(
        update(Alert)
        .where(_ALERT.c.id == alert_id)
        .values(
            value=value,
            threshold=threshold,
            period_start=period_start,
            message=message,
            updated_at=func.now(),
        )
    )


async def transition(
    conn: AsyncConnection, alert_id: int, *, from_status: tuple[str, ...], **changes: Any
) -> Row | None:
    """Move an alert on only from the given states; None when it was not in one of them."""
    stmt = (
        update(Alert)
        .where(_ALERT.c.id == alert_id, _ALERT.c.status.in_(from_status))
        .values(updated_at=func.now(), **changes)
        .returning(_ALERT)
    )
    row = (await conn.execute(stmt)).first()
    return dict(row._mapping) if row else None


async def get(conn: AsyncConnection, alert_id: int) -> Row | None:
    row = (await conn.execute(select(_ALERT).where(_ALERT.c.id == alert_id))).first()
    return dict(row._mapping) if row else None


async def search(
    conn: AsyncConnection,
    *,
    status: str | None,
    indicator: str | None,
    unit: str | None,
    limit: int,
) -> list[Row]:
    stmt = select(_ALERT).order_by(_ALERT.c.opened_at.desc(), _ALERT.c.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(_ALERT.c.status == status)
    if indicator:
        stmt = stmt.where(_ALERT.c.indicator_code == indicator)
    if unit:
        stmt = stmt.where(_ALERT.c.unit_code == unit)
    return [dict(r._mapping) for r in await conn.execute(stmt)]

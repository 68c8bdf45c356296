"""SQL for alerts: the lifecycle lives in the table, one unresolved alert per rule and unit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables.changes import log_change
from models.tables_serving import Alert

_ALERT = Alert.__table__


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """What an evaluation judged for one rule and unit: the values an alert opens with."""

    rule_code: str
    kind: str
    indicator_code: str
    unit_code: str
    severity: str
    period_start: datetime
    value: float | None
    threshold: float | None


@dataclass(frozen=True, slots=True)
class AlertRow(AlertDraft):
    """A stored alert (a row of ``alert``)."""

    id: int
    status: str
    message: str
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolution: str | None


_COLUMNS = [_ALERT.c[f.name] for f in fields(AlertRow)]
"""The columns read, named by the row type: a renamed column fails at import."""


def _row(row: Row[Any]) -> AlertRow:
    return AlertRow(**row._mapping)


async def unresolved(conn: AsyncConnection, rule_code: str) -> dict[str, AlertRow]:
    """Open or acknowledged alerts of a rule, by unit."""
    rows = await conn.execute(
        select(*_COLUMNS).where(_ALERT.c.rule_code == rule_code, _ALERT.c.status != "resolved")
    )
    return {r.unit_code: _row(r) for r in rows}


async def open_alert(conn: AsyncConnection, draft: AlertDraft, message: str) -> AlertRow | None:
    """Insert an open alert; None when one is already unresolved for the rule and unit."""
    stmt = (
        insert(Alert)
        .values(**asdict(draft), status="open", message=message)
        .on_conflict_do_nothing(
            # A literal predicate: with a bound parameter PostgreSQL cannot match the partial
            # index once psycopg prepares the statement (generic plan).
            index_elements=["rule_code", "unit_code"],
            index_where=text("status <> 'resolved'"),
        )
        .returning(*_COLUMNS)
    )
    row = (await conn.execute(stmt)).first()
    await log_change(conn)  # alerts: read by no answer, which stay kept
    return _row(row) if row else None


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
    await log_change(conn)  # alerts: read by no answer, which stay kept


async def transition(
    conn: AsyncConnection, alert_id: int, *, from_status: tuple[str, ...], **changes: Any
) -> AlertRow | None:
    """Move an alert on only from the given states; None when it was not in one of them."""
    stmt = (
        update(Alert)
        .where(_ALERT.c.id == alert_id, _ALERT.c.status.in_(from_status))
        .values(updated_at=func.now(), **changes)
        .returning(*_COLUMNS)
    )
    row = (await conn.execute(stmt)).first()
    await log_change(conn)  # alerts: read by no answer, which stay kept
    return _row(row) if row else None


async def get(conn: AsyncConnection, alert_id: int) -> AlertRow | None:
    row = (await conn.execute(select(_ALERT).where(_ALERT.c.id == alert_id))).first()
    return _row(row) if row else None


async def search(
    conn: AsyncConnection,
    *,
    status: str | None,
    indicator: str | None,
    unit: str | None,
    limit: int,
) -> list[AlertRow]:
    stmt = select(*_COLUMNS).order_by(_ALERT.c.opened_at.desc(), _ALERT.c.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(_ALERT.c.status == status)
    if indicator:
        stmt = stmt.where(_ALERT.c.indicator_code == indicator)
    if unit:
        stmt = stmt.where(_ALERT.c.unit_code == unit)
    return [_row(r) for r in await conn.execute(stmt)]

"""Alert routes: the operator's queue (reading: wall role or above; ack/resolve: operator)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from app.alerts import service
from app.alerts.schemas import AlertOut, AlertStatus
from app.auth import Principal, Role, require_role
from app.kit.db import ConnDep
from models.alert_rules import RULES, AlertRule

router = APIRouter(prefix="/alerts", tags=["alerts"])
Operator = Annotated[Principal, Depends(require_role(Role.OPERATOR))]
Reader = Annotated[Principal, Depends(require_role(Role.WALL))]
AlertId = Annotated[int, Path(ge=1, le=2**62, examples=[1])]
Lang = Annotated[Literal["vi", "en"], Query(description="Language of `message`.")]


@router.get("")
async def list_alerts(
    conn: ConnDep,
    _: Reader,
    status: AlertStatus | None = None,
    indicator: Annotated[str | None, Query(max_length=64)] = None,
    unit: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    lang: Lang = "vi",
) -> list[AlertOut]:
    """Alerts, newest first, optionally by status, indicator and unit."""
    return await service.search(
        conn, lang, status=status, indicator=indicator, unit=unit, limit=limit
    )


@router.get("/rules")
async def list_rules(_: Reader) -> list[AlertRule]:
    """The alert rules, as data."""
    return list(RULES)


@router.get("/{alert_id}")
async def get_alert(conn: ConnDep, _: Reader, alert_id: AlertId, lang: Lang = "vi") -> AlertOut:
    """One alert."""
    return await service.get(conn, alert_id, lang)


@router.post("/{alert_id}/ack", responses={409: {"description": "The alert is resolved."}})
async def acknowledge(
    conn: ConnDep, who: Operator, alert_id: AlertId, lang: Lang = "vi"
) -> AlertOut:
    """Acknowledge an open alert: someone is on it."""
    return await service.acknowledge(conn, alert_id, who.name, datetime.now(UTC), lang)


@router.post("/{alert_id}/resolve", responses={409: {"description": "Already resolved."}})
async def resolve(conn: ConnDep, _: Operator, alert_id: AlertId, lang: Lang = "vi") -> AlertOut:
    """Resolve an alert by hand."""
    return await service.resolve(conn, alert_id, datetime.now(UTC), lang)

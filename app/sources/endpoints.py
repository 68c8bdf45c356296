"""Source routes: which sector systems report, which are late or silent, which are closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.auth import Principal, Role, require_role
from app.kit.db import ConnDep
from app.kit.ranges import RangeDep
from app.resources import NowDep, VolumeScaleDep
from app.sources import closures, service
from app.sources.schemas import ClosureIn, ClosureOut, SourceStatus

router = APIRouter(prefix="/sources", tags=["sources"])
Reader = Annotated[Principal, Depends(require_role(Role.WALL))]
Operator = Annotated[Principal, Depends(require_role(Role.OPERATOR))]


@router.get("")
async def list_sources(
    conn: ConnDep, period: RangeDep, scale: VolumeScaleDep, now: NowDep, _: Reader
) -> list[SourceStatus]:
    """Every registered source: expected vs received, timeliness, fresh / late / silent."""
    period.check(timedelta(days=366), "the sources view")
    return await service.source_statuses(
        conn, start=period.start, end=period.end, now=now, volume_scale=scale
    )


@router.get("/closures")
async def list_closures(conn: ConnDep, period: RangeDep, _: Reader) -> list[ClosureOut]:
    """Declared closures overlapping the range, withdrawn ones included (the record)."""
    period.check(timedelta(days=366), "the closures view")
    return await closures.records(conn, start=period.start, end=period.end)


@router.post("/closures", status_code=201)
async def declare_closure(conn: ConnDep, body: ClosureIn, who: Operator) -> ClosureOut:
    """Declare a closure: the sources it names owe no report while it holds."""
    return await closures.declare(conn, body, who.name)


@router.delete("/closures/{closure_id}", responses={404: {"description": "None in force."}})
async def withdraw_closure(
    conn: ConnDep, closure_id: Annotated[int, Path(ge=1)], who: Operator
) -> ClosureOut:
    """Withdraw a closure in force; its record stays, saying who withdrew it and when."""
    return await closures.withdraw(conn, closure_id, who.name, datetime.now(UTC))

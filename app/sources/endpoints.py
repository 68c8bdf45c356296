"""Source routes: which sector systems report, and which are late or silent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth import Principal, Role, require_role
from app.kit.db import ConnDep
from app.kit.ranges import RangeDep
from app.sources import service
from app.sources.schemas import SourceStatus

router = APIRouter(prefix="/sources", tags=["sources"])


@router.get("")
async def list_sources(
    conn: ConnDep,
    period: RangeDep,
    _: Annotated[Principal, Depends(require_role(Role.WALL))],
) -> list[SourceStatus]:
    """Every registered source: expected vs received, timeliness, fresh / late / silent."""
    period.check(timedelta(days=366), "the sources view")
    return await service.source_statuses(
        conn, start=period.start, end=period.end, now=datetime.now(UTC)
    )

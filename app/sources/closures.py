"""The closure register: closures an operator (or a scenario) declares, kept with who
declared and who withdrew them; ``app.sources.service`` reads the ones in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.errors import InvalidRequest, NotFound
from app.sources import repository
from app.sources.schemas import ClosureIn, ClosureOut
from models.closures import Closure, closed_intervals
from models.sources import source_registry, sources_by_code
from models.units import PROVINCE_CODE, legacy_units


def _out(row: Any) -> ClosureOut:
    """A stored closure with the sources it closes."""
    return ClosureOut(**row._mapping, sources=sorted(closed_intervals([Closure.of(row)])))


def _checked(body: ClosureIn) -> Closure:
    """The declaration, once its source, unit and kinds are known ones."""
    if body.source is not None and body.source not in sources_by_code():
        raise InvalidRequest(f"unknown source {body.source!r}; GET /api/v1/sources lists them")
    units = {u.code for u in legacy_units()} | {PROVINCE_CODE}
    if body.unit_code is not None and body.unit_code not in units:
        raise InvalidRequest(f"unknown unit {body.unit_code!r}; GET /api/v1/units lists them")
    kinds = {s.kind for s in source_registry()}
    unknown = sorted(set(body.kinds) - kinds)
    if unknown:
        raise InvalidRequest(f"unknown kind {', '.join(unknown)}; choose from {sorted(kinds)}")
    return Closure.of(body)


async def declare(conn: AsyncConnection, body: ClosureIn, declared_by: str) -> ClosureOut:
    return _out(await repository.declare_closure(conn, _checked(body), declared_by))


async def withdraw(
    conn: AsyncConnection, closure_id: int, withdrawn_by: str, at: datetime
) -> ClosureOut:
    row = await repository.withdraw_closure(conn, closure_id, withdrawn_by, at)
    if row is None:
        raise NotFound(
            f"No closure {closure_id} in force; GET /api/v1/sources/closures lists them."
        )
    return _out(row)


async def records(conn: AsyncConnection, *, start: datetime, end: datetime) -> list[ClosureOut]:
    return [_out(r) for r in await repository.closure_records(conn, start=start, end=end)]


async def declare_once(conn: AsyncConnection, closure: Closure, declared_by: str) -> bool:
    """Declare ``closure`` unless the same one is in force already (a scenario played again);
    whether it was declared now."""
    held = await repository.closures_in(conn, start=closure.starts_at, end=closure.ends_at)
    if closure in held:
        return False
    await repository.declare_closure(conn, closure, declared_by)
    return True

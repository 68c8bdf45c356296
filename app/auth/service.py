"""Roles, key hashing and the ``require_role`` dependency shared by every route.

A request without a key is the anonymous *public* reader: open indicators and open-data
exports need no key, so the wall's public screens and open-data users just work. Anything
else needs a key (``X-API-Key: <key>`` or ``Authorization: Bearer <key>``) whose role
grants the route; ``admin`` grants everything. Operator reads require ``wall`` (granted to
wall, operator and admin keys); operator actions require ``operator``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.auth import repository
from app.kit.errors import Forbidden, TooManyRequests, Unauthorized
from app.resources import Resources, ResourcesDep

KEY_PREFIX = "ioc_"


class Role(StrEnum):
    PUBLIC = "public"
    WALL = "wall"
    OPERATOR = "operator"
    INGEST = "ingest"
    ADMIN = "admin"


GRANTS: dict[Role, frozenset[Role]] = {
    Role.PUBLIC: frozenset(Role),
    Role.WALL: frozenset({Role.WALL, Role.OPERATOR, Role.ADMIN}),
    Role.OPERATOR: frozenset({Role.OPERATOR, Role.ADMIN}),
    Role.INGEST: frozenset({Role.INGEST, Role.ADMIN}),
    Role.ADMIN: frozenset({Role.ADMIN}),
}
"""For each role a route requires, the roles of keys that may call it. ``wall`` is the
read-only operator view a control-room display runs with: everything an operator reads
(restricted indicators, alerts, sources), nothing an operator changes, so a key that may end
up in a display's URL cannot acknowledge alerts or manage keys."""


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    name: str
    authenticated: bool
    key_id: str = ""
    """Tells keys apart for quotas (the start of the key's hash); empty for no key."""

    def can(self, role: Role) -> bool:
        return self.role in GRANTS[role]


ANONYMOUS = Principal(Role.PUBLIC, "anonymous", authenticated=False)

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key issued by an administrator."
)
_bearer = HTTPBearer(auto_error=False, description="The same API key, as a bearer token.")


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def principal_for_key(engine: AsyncEngine, key: str, admin_key: str | None) -> Principal:
    if admin_key and hmac.compare_digest(key.encode(), admin_key.encode()):
        return Principal(Role.ADMIN, "bootstrap admin", authenticated=True, key_id="bootstrap")
    key_hash = hash_key(key)
    async with engine.connect() as conn:
        found = await repository.role_for_hash(conn, key_hash)
    if found is None:
        raise Unauthorized("The API key is not valid: it is unknown or has been revoked.")
    return Principal(Role(found[0]), found[1], authenticated=True, key_id=key_hash[:16])


async def check_key(resources: Resources, request: Request, key: str) -> Principal:
    """The principal of a presented key, with failed checks limited per client address:
    past ``IOC_AUTH_FAILURES_PER_MINUTE`` an address gets 429s instead of more guesses."""
    failures = resources.auth_failures
    address = request.client.host if request.client else "unknown"
    wait = failures.wait_for(address)
    if wait > 0:
        raise TooManyRequests(
            f"Too many failed API-key checks from this address; try again in {wait:.0f} s.", wait
        )
    try:
        return await principal_for_key(resources.engine, key, resources.settings.admin_api_key)
    except Unauthorized:
        failures.take(address)
        raise


async def current_principal(
    request: Request,
    resources: ResourcesDep,
    header_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Who is calling: the key's role, or the anonymous public reader when no key is sent."""
    key = header_key or (bearer.credentials if bearer else None)
    if not key:
        return ANONYMOUS
    return await check_key(resources, request, key)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def demand(principal: Principal, role: Role | str, why: str = "This") -> Principal:
    """``principal`` if it may act with ``role``; else 401 (no key) or 403 (too weak a key)."""
    needed = Role(role)
    if principal.can(needed):
        return principal
    if not principal.authenticated:
        raise Unauthorized(
            f"{why} needs an API key with the {needed} role: send 'X-API-Key: <key>' "
            "or 'Authorization: Bearer <key>'."
        )
    raise Forbidden(
        f"{why} needs the {needed} role; the key '{principal.name}' has the {principal.role} role."
    )


def require_role(role: Role | str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through callers whose key grants ``role`` (admin: all)."""
    needed = Role(role)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        return demand(principal, needed)

    return dependency


async def issue_key(
    conn: AsyncConnection, *, name: str, role: Role
) -> tuple[repository.KeyRow, str]:
    """Store a new key's hash; return what is listed of it and the key (the only time the
    key is seen)."""
    key = new_key()
    issued = await repository.add_key(
        conn, name=name, role=role, key_hash=hash_key(key), prefix=key[:12]
    )
    return issued, key

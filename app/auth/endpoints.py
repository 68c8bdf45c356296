"""API-key administration (admin role) and "who am I" for any caller."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.auth import repository, service
from app.auth.schemas import KeyCreate, KeyCreated, KeyInfo, Me
from app.auth.service import CurrentPrincipal, Principal, Role, require_role
from app.kit.db import ConnDep
from app.kit.errors import NotFound

router = APIRouter(prefix="/auth", tags=["auth"])
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


@router.get("/me")
async def me(principal: CurrentPrincipal) -> Me:
    """The role the presented key (or no key) gives."""
    return Me(role=principal.role, name=principal.name, authenticated=principal.authenticated)


@router.post("/keys", status_code=201)
async def create_key(conn: ConnDep, body: KeyCreate, _: Admin) -> KeyCreated:
    """Issue a key with a role; the key is returned once and stored hashed."""
    issued, key = await service.issue_key(conn, name=body.name, role=body.role)
    return KeyCreated.model_validate({**asdict(issued), "key": key})


@router.get("/keys")
async def list_keys(conn: ConnDep, _: Admin) -> list[KeyInfo]:
    """Every key ever issued (hashes are never shown)."""
    return [KeyInfo.model_validate(asdict(r)) for r in await repository.list_keys(conn)]


@router.delete("/keys/{key_id}", status_code=204)
async def revoke_key(conn: ConnDep, key_id: Annotated[int, Path(ge=1, le=2**62)], _: Admin) -> None:
    """Revoke a key: it stops working at once."""
    if not await repository.revoke_key(conn, key_id):
        raise NotFound(f"No live API key with id {key_id}; see GET /api/v1/auth/keys.")

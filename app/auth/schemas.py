"""API-key requests and responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.auth.service import Role


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120, examples=["wall in the control room"])
    role: Role = Field(examples=["operator"])


class KeyInfo(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="First characters of the key, to tell keys apart.")
    created_at: datetime
    revoked_at: datetime | None = None


class KeyCreated(KeyInfo):
    key: str = Field(description="The key itself: shown once, stored only as a hash.")


class Me(BaseModel):
    role: Role
    name: str
    authenticated: bool

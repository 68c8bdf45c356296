"""The demo's keys, kept in its data directory so the wall link it prints survives a restart.

The link carries a read-only ``wall`` key, never the admin key: a display's URL ends up on
screens, in browser histories and in proxies' logs. The admin key is kept beside it (file
mode 0600) so a restarted demo still accepts the key it printed the first time.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.service import Role, issue_key, principal_for_key
from app.kit.errors import ApiError

KEYS_FILE = "demo-keys.json"


@dataclass(frozen=True, slots=True)
class DemoKeys:
    admin: str
    wall: str


async def demo_keys(
    engine: AsyncEngine, data_dir: Path, admin_from_settings: str | None
) -> DemoKeys:
    """The demo's admin and wall keys: those stored under ``data_dir`` while still valid,
    else fresh ones (stored for next time). ``IOC_ADMIN_API_KEY``, when set, wins."""
    path = data_dir / KEYS_FILE
    stored = _read(path)
    admin = admin_from_settings or stored.get("admin") or secrets.token_urlsafe(24)
    wall = stored.get("wall")
    if not wall or not await _is_wall_key(engine, wall, admin):
        async with engine.begin() as conn:
            _, wall = await issue_key(conn, name="wall display (demo)", role=Role.WALL)
    if stored != {"admin": admin, "wall": wall}:
        _write(path, {"admin": admin, "wall": wall})
    return DemoKeys(admin=admin, wall=wall)


def _write(path: Path, keys: dict[str, str]) -> None:
    """Readable by the owner only: the file holds an admin key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps(keys, indent=2), encoding="utf-8")


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


async def _is_wall_key(engine: AsyncEngine, key: str, admin: str) -> bool:
    """A stored key still in the database (a wiped data directory loses it) with the wall role."""
    try:
        principal = await principal_for_key(engine, key, admin)
    except ApiError:
        return False
    return principal.role == Role.WALL

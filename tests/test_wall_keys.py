"""The demo's wall link: a read-only wall key kept in the data directory across restarts."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.service import Role, principal_for_key
from app.wall.keys import KEYS_FILE, demo_keys

pytestmark = pytest.mark.integration


async def test_the_demo_keeps_its_keys_and_the_wall_key_is_read_only(
    clean_db: AsyncEngine, tmp_path: Path
) -> None:
    first = await demo_keys(clean_db, tmp_path, None)
    assert stat.S_IMODE((tmp_path / KEYS_FILE).stat().st_mode) == 0o600
    wall = await principal_for_key(clean_db, first.wall, first.admin)
    assert wall.role == Role.WALL
    assert wall.can(Role.WALL) and not wall.can(Role.OPERATOR)

    again = await demo_keys(clean_db, tmp_path, None)
    assert again == first  # a restart prints the same link

    # A wiped database forgets the wall key: a new one is issued, the admin key stays.
    async with clean_db.begin() as conn:
        await conn.execute(text("DELETE FROM api_key"))
    fresh = await demo_keys(clean_db, tmp_path, None)
    assert fresh.admin == first.admin and fresh.wall != first.wall
    assert (await principal_for_key(clean_db, fresh.wall, fresh.admin)).role == Role.WALL


async def test_an_admin_key_from_the_settings_wins(clean_db: AsyncEngine, tmp_path: Path) -> None:
    await demo_keys(clean_db, tmp_path, None)
    keys = await demo_keys(clean_db, tmp_path, "a-configured-admin-key-0123")
    assert keys.admin == "a-configured-admin-key-0123"

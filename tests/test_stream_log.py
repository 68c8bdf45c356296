"""The live stream's log is pruned by the evaluator whatever else it is set to do."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.stream import evaluator as evaluating
from app.stream import repository
from app.stream.evaluator import Evaluator
from app.stream.repository import StreamDraft
from tests.helpers import HANG_GUARD, wait_for

pytestmark = pytest.mark.integration


async def test_the_leader_prunes_the_log_with_the_periodic_evaluation_off(
    clean_db: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every batch adds its changed values to the log: the evaluator drops what is older
    than ``KEEP`` on a clock of its own, with the alert interval at 0 as well."""
    monkeypatch.setattr(evaluating, "PRUNE_SECONDS", 0.05)
    drafts = [StreamDraft("source", {"n": n}, None, [], True, False) for n in range(2)]
    async with clean_db.begin() as conn:
        old, new = await repository.append(conn, drafts)
        await conn.execute(
            text("UPDATE stream_event SET created_at = now() - :age WHERE id = :id"),
            {"age": evaluating.KEEP + timedelta(minutes=1), "id": old},
        )

    async def kept() -> set[int]:
        async with clean_db.connect() as conn:
            found = await conn.execute(text("SELECT id FROM stream_event WHERE id IN (:a, :b)"),
                                       {"a": old, "b": new})  # fmt: skip
            return {row.id for row in found}

    evaluator = Evaluator(clean_db, database_url, alert_interval=0, volume_scale=1.0)
    running = asyncio.create_task(evaluator.run())
    try:
        await wait_for(lambda: evaluator.leading.is_set(), HANG_GUARD, "the lead")

        async def pruned() -> bool:
            return await kept() == {new}

        await wait_for(pruned, HANG_GUARD, "the old event pruned")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

"""The evaluator's backlog: a change waits for the indicators ahead of it, not for a whole
round of every indicator, and a burst of changes to one indicator is evaluated once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from app.stream.backlog import Backlog
from models.notify import ChangeNotice
from tests.helpers import HANG_GUARD

T0 = datetime(2025, 6, 1, tzinfo=UTC)


def _notice(commune: str, hour: int) -> ChangeNotice:
    moment = T0 + timedelta(hours=hour)
    return ChangeNotice(
        rollups=["health_encounter_hourly"], communes=[commune], first_bucket=moment,
        last_bucket=moment, committed_at=moment,
    )  # fmt: skip


async def test_changes_to_one_indicator_merge_and_keep_its_place() -> None:
    backlog = Backlog()
    backlog.add("a", _notice("1", 1))
    backlog.add("b", _notice("1", 1))
    backlog.add("a", _notice("2", 3))  # merged into a's, which stays first
    code, notice = await backlog.take()
    assert code == "a"
    assert notice.communes == ["1", "2"]
    assert (notice.first_bucket, notice.last_bucket) == (
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=3),
    )
    assert (await backlog.take())[0] == "b"
    assert len(backlog) == 0


async def test_an_indicator_being_evaluated_is_not_taken_by_another_lane() -> None:
    """Its values are then published in the order of its changes: a lane never publishes an
    older value after another lane's newer one."""
    backlog = Backlog()
    backlog.add("a", _notice("1", 1))
    assert (await backlog.take())[0] == "a"
    backlog.add("a", _notice("2", 2))  # changed again while evaluated
    backlog.add("b", _notice("2", 2))
    assert (await backlog.take())[0] == "b"  # a waits for its first evaluation to end
    waiting = asyncio.create_task(backlog.take())
    await asyncio.sleep(0)
    assert not waiting.done()
    backlog.done("a")
    code, notice = await asyncio.wait_for(waiting, HANG_GUARD)
    assert (code, notice.communes) == ("a", ["2"])


async def test_a_lane_waiting_for_work_wakes_on_a_change() -> None:
    backlog = Backlog()
    waiting = asyncio.create_task(backlog.take())
    await asyncio.sleep(0)
    assert not waiting.done()
    backlog.add("a", _notice("1", 1))
    assert (await asyncio.wait_for(waiting, HANG_GUARD))[0] == "a"

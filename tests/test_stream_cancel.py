"""The evaluator's tasks stop when cancelled, even when the database has just gone away.

A query cut short by cancellation is rolled back on the way out; with the server gone that
rollback fails, and its error is raised instead of the cancellation (SQLAlchemy finishes the
connection's ``close()`` before re-raising a cancellation, and an error of the close wins).
A task that took it for an ordinary failure and carried on was never stopped: the evaluator
that cancelled it waited for it for ever, and no change was pushed live again."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import exc as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.stream.evaluator import Evaluator
from tests.helpers import HANG_GUARD, wait_for


def _evaluator(alert_interval: float = 0) -> tuple[Evaluator, AsyncEngine]:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none"  # never connected to
    engine = create_async_engine(url)
    return Evaluator(engine, url, alert_interval=alert_interval, volume_scale=1.0), engine


def gone() -> sa.OperationalError:
    """What SQLAlchemy raises when the server ended the connection (a fast shutdown)."""
    return sa.OperationalError(
        "ROLLBACK", {}, psycopg.errors.AdminShutdown("terminating connection")
    )


async def stopped(task: asyncio.Task[None]) -> bool:
    """Cancel ``task``; whether it ended cancelled within the guard."""
    task.cancel()
    await asyncio.wait({task}, timeout=HANG_GUARD)
    return task.done() and task.cancelled()


async def test_the_periodic_evaluation_stops_though_its_rollback_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluator, engine = _evaluator(alert_interval=0.01)
    started: list[object] = []

    async def evaluate_alerts(*args: object) -> None:
        started.append(args)
        try:
            await asyncio.Event().wait()  # a long query
        finally:
            raise gone()  # the connection's clean-up on a server that is gone

    monkeypatch.setattr(evaluator, "evaluate_alerts", evaluate_alerts)
    tick = asyncio.create_task(evaluator._tick())
    try:
        await wait_for(lambda: bool(started), HANG_GUARD, "the evaluation to start")
        assert await stopped(tick)
        assert len(started) == 1  # not evaluated again after the cancellation
    finally:
        tick.cancel()
        await engine.dispose()

"""The evaluator's tasks stop when cancelled, even when the database has just gone away.

A query cut short by cancellation is rolled back on the way out; with the server gone that
rollback fails, and its error is raised instead of the cancellation (SQLAlchemy finishes the
connection's ``close()`` before re-raising a cancellation, and an error of the close wins).
A task that took it for an ordinary failure and carried on was never stopped: the evaluator
that cancelled it waited for it for ever, and no change was pushed live again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import psycopg
import pytest
import structlog
from sqlalchemy import exc as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.stream.backlog import Backlog
from app.stream.evaluator import Evaluator
from app.stream.service import Hub
from models.indicators import Indicator
from models.notify import ChangeNotice
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


def _notice() -> ChangeNotice:
    moment = datetime(2025, 6, 1, 8, tzinfo=UTC)
    return ChangeNotice(
        rollups=["health_encounter_hourly"], communes=["1"], first_bucket=moment,
        last_bucket=moment, committed_at=moment,
    )  # fmt: skip


async def test_a_lane_cancelled_mid_query_stops_though_its_rollback_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the database goes away the evaluator cancels its lanes, maybe mid-query. A lane
    that carried on took indicator after indicator from the backlog, each failing (and each
    rendering a traceback for seconds on the loop the API answers on: requests hung for
    their 30 s instead of answering 503)."""
    evaluator, engine = _evaluator()
    started: list[str] = []

    async def on_change(notice: ChangeNotice, among: list[Indicator]) -> None:
        started.append(among[0].code)
        try:
            await asyncio.Event().wait()  # a long query
        finally:
            raise gone()  # the connection's clean-up on a server that is gone

    monkeypatch.setattr(evaluator, "on_change", on_change)
    backlog = Backlog()
    backlog.add("health.encounters", _notice())
    backlog.add("health.encounters_per_10k", _notice())
    lane = asyncio.create_task(evaluator._lane(backlog))
    try:
        await wait_for(lambda: bool(started), HANG_GUARD, "the lane to start")
        assert await stopped(lane)
        assert started == ["health.encounters"]  # the next one was left in the backlog
    finally:
        lane.cancel()
        await engine.dispose()


async def test_a_lane_that_finds_the_database_gone_logs_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluator, engine = _evaluator()

    async def on_change(notice: ChangeNotice, among: list[Indicator]) -> None:
        raise gone()

    monkeypatch.setattr(evaluator, "on_change", on_change)
    backlog = Backlog()
    backlog.add("health.encounters", _notice())
    lane = asyncio.create_task(evaluator._lane(backlog))
    try:
        with structlog.testing.capture_logs() as logs:
            await wait_for(lambda: bool(logs), HANG_GUARD, "the lane to log its failure")
        assert [(e["log_level"], "exc_info" in e) for e in logs] == [("warning", False)]
    finally:
        lane.cancel()
        await engine.dispose()


async def test_the_live_delivery_stops_though_its_rollback_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hub's delivery loop retries a failed read; cancelled mid-read when the database
    has gone, it stops instead of taking the failed clean-up for one more failure."""
    evaluator, engine = _evaluator()
    hub = Hub(engine, "postgresql+psycopg://nobody@127.0.0.1:9/none", evaluator)
    started: list[bool] = []

    async def deliver_new() -> None:
        started.append(True)
        try:
            await asyncio.Event().wait()  # a long read
        finally:
            raise gone()

    monkeypatch.setattr(hub, "_deliver_new", deliver_new)
    delivery = asyncio.create_task(hub._deliver())
    hub._new.set()
    try:
        await wait_for(lambda: bool(started), HANG_GUARD, "the delivery to start")
        assert await stopped(delivery)
        assert started == [True]
    finally:
        delivery.cancel()
        await engine.dispose()

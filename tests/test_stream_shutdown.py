"""An open live-stream client never holds the API's shutdown: sse-starlette ends every
open stream when the server is asked to exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sse_starlette.sse import AppStatus

from app.main import create_app
from app.resources import resources_of, running
from app.stream.evaluator import Evaluator
from ioc import server as ioc_server
from models.notify import ChangeNotice
from models.settings import Settings
from tests.conftest import ADMIN_API_KEY
from tests.helpers import HANG_GUARD, scalar, wait_for

pytestmark = pytest.mark.integration


async def test_the_server_stops_with_stream_clients_connected(
    engine: AsyncEngine, database_url: str
) -> None:
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0)
    app = create_app(database_url, settings=settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, ws="none", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started or task.done(), HANG_GUARD, "the server to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        streams = [
            await client.send(client.build_request("GET", "/api/v1/stream"), stream=True)
            for _ in range(3)
        ]
        await wait_for(
            lambda: resources_of(app).hub.subscriber_count == 3, HANG_GUARD, "three clients"
        )
        hub = resources_of(app).hub  # closed with the server: held to look at afterwards
        server.should_exit = True  # what SIGINT / SIGTERM do
        # Without sse-starlette's shutdown handling this waited on the clients for as long
        # as they stayed (pings keep them): the guard only turns that hang into a failure.
        await asyncio.wait_for(task, HANG_GUARD)
        for response in streams:
            await response.aclose()
    assert hub.subscriber_count == 0


async def _fails(notice: ChangeNotice) -> None:
    raise RuntimeError("the alert rules could not be read")


async def _stops_at_once(notice: ChangeNotice) -> None:
    await asyncio.Event().wait()


@pytest.mark.parametrize("alerts", [_fails, _stops_at_once], ids=["alerts fail", "alerts stop"])
async def test_stopping_the_evaluator_waits_for_its_tile_update_to_finish(
    monkeypatch: pytest.MonkeyPatch, alerts: Any
) -> None:
    """Alerts and tiles are computed side by side. Whether the alerts fail or stop first,
    the tile update still belongs to the evaluator: stopping it waits for the update's
    cleanup. An update left behind ran on past the app's shutdown and returned its
    connection to an engine already disposed, where nothing closed it."""
    evaluator = Evaluator(
        cast(AsyncEngine, None), "postgresql://unused/ioc", alert_interval=0, volume_scale=1.0
    )
    started, ended = asyncio.Event(), asyncio.Event()

    async def tiles(notice: ChangeNotice, *among: object) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.1)  # gives its connection back, which takes a round trip
            ended.set()

    monkeypatch.setattr(evaluator, "alerts_after", alerts)
    monkeypatch.setattr(evaluator, "on_change", tiles)
    work = asyncio.create_task(evaluator._work())
    now = datetime.now(UTC)
    evaluator._notices.put_nowait(
        ChangeNotice(
            rollups=["health_encounter_hourly"],
            communes=[],
            first_bucket=now,
            last_bucket=now,
            committed_at=now,
        )
    )
    await asyncio.wait_for(started.wait(), HANG_GUARD)
    await asyncio.sleep(0)
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(work, HANG_GUARD)
    assert ended.is_set()


SLOW_QUERY = "SELECT pg_sleep(3600)"
IN_FLIGHT = (
    f"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = '{SLOW_QUERY}'"
)


def _notice() -> ChangeNotice:
    now = datetime.now(UTC)
    return ChangeNotice(
        rollups=["health_encounter_hourly"], communes=[], first_bucket=now, last_bucket=now,
        committed_at=now,
    )  # fmt: skip


@pytest.mark.parametrize("second", ["echo", "insisting"])
async def test_a_second_ctrl_c_still_shuts_the_app_down_with_its_query_cancelled(
    engine: AsyncEngine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    second: str,
) -> None:
    """Ctrl-C on ``./run ioc demo`` reaches the server twice (``uv run`` passes a copy on
    0.2 s later); an operator may also press it twice. A second SIGINT made uvicorn skip
    the application's shutdown: the evaluator, mid-query, was left to ``asyncio.run``'s
    final cancel of every task, which interrupted psycopg's cancel of its query and the
    lifespan itself (two warnings and a traceback on the operator's screen). Whichever the
    second signal is, the app is shut down — resources closed, the query cancelled in the
    server — by the time the server returns, and psycopg never had to give a query up."""
    # sse-starlette learns of the exit through uvicorn's handle_exit, in a process-wide
    # flag that ends every stream opened after it: put back for the tests that follow
    monkeypatch.setattr(AppStatus, "should_exit", False)
    if second == "insisting":  # a second Ctrl-C well after the first: a forced exit
        monkeypatch.setattr(ioc_server, "ECHO_SECONDS", 0.0)
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0)
    app = create_app(database_url, settings=settings)
    server = ioc_server.api_server(app, "127.0.0.1", 0, log_level="warning")
    server.config.ws = "none"
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started or task.done(), HANG_GUARD, "the server to start")
    resources = resources_of(app)
    evaluator, hub = resources.evaluator, resources.hub
    await wait_for(evaluator.leading.is_set, HANG_GUARD, "the evaluator to lead")

    async def slow(notice: ChangeNotice, *among: object) -> None:
        async with resources.engine.connect() as conn:
            await conn.execute(text(SLOW_QUERY))

    monkeypatch.setattr(evaluator, "on_change", slow)
    evaluator._notices.put_nowait(_notice())
    await wait_for(lambda: scalar(engine, IN_FLIGHT), HANG_GUARD, "the evaluator's query")

    caplog.set_level(logging.WARNING)
    server.handle_exit(signal.SIGINT, None)
    server.handle_exit(signal.SIGINT, None)  # before the stop got anywhere: the worst case
    try:
        await asyncio.wait_for(task, HANG_GUARD)
        assert running(app) is None, "the server returned before the app's shutdown"
        assert all(t.done() for t in hub._tasks)
        assert await scalar(engine, IN_FLIGHT) == 0
        assert not [r for r in caplog.records if "cancellation" in r.getMessage()]
    finally:
        if running(app) is not None:  # what the fix is for; clean up for the next tests
            await hub.stop()

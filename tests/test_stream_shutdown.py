"""An open live-stream client never holds the API's shutdown: sse-starlette ends every
open stream when the server is asked to exit."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.resources import resources_of
from app.stream.evaluator import Evaluator
from models.notify import ChangeNotice
from models.settings import Settings
from tests.conftest import ADMIN_API_KEY
from tests.helpers import HANG_GUARD, wait_for

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

    async def tiles(notice: ChangeNotice) -> None:
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

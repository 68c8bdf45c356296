"""An open live-stream client never holds the API's shutdown: sse-starlette ends every
open stream when the server is asked to exit."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from models.settings import Settings
from tests.conftest import ADMIN_API_KEY
from tests.helpers import wait_for

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
    await wait_for(lambda: server.started or task.done(), 20, "the server to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        streams = [
            await client.send(client.build_request("GET", "/api/v1/stream"), stream=True)
            for _ in range(3)
        ]
        await wait_for(lambda: app.state.hub.subscriber_count == 3, 10, "three clients")
        server.should_exit = True  # what SIGINT / SIGTERM do
        # Bounded: without sse-starlette's shutdown handling this waited on the clients.
        await asyncio.wait_for(task, 10)
        for response in streams:
            await response.aclose()
    assert app.state.hub.subscriber_count == 0

"""Property-based API test: requests generated from our OpenAPI schema never get a 500.

A real server (uvicorn in a thread) on the test database and broker, called with the bootstrap admin
key so operator and admin routes are exercised too. The live stream is left out: it never
ends by design (tests/test_stream.py covers it). Examples are few per operation so the
suite stays quick; the point is breadth (every parameter of every route), not depth.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from models.settings import Settings
from tests.conftest import ADMIN_API_KEY

pytestmark = pytest.mark.integration

# The schema needs no database: the engine is only made when the app starts.
SETTINGS = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=0)
schema = schemathesis.openapi.from_dict(
    create_app("postgresql://schema-only/ioc", settings=SETTINGS).openapi()
).exclude(path="/api/v1/stream")


@pytest.fixture(scope="module")
def api_url(engine: AsyncEngine, database_url: str, kafka_bootstrap: str) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(database_url, kafka_bootstrap, settings=SETTINGS)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "API server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(20)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_gets_a_server_error(api_url: str, case: schemathesis.Case) -> None:
    case.call_and_validate(
        base_url=api_url, headers={"X-API-Key": ADMIN_API_KEY}, checks=[not_a_server_error]
    )

"""Live stream: a real server, a real SSE client, a real ingest commit and its NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sse_starlette import ServerSentEvent
from starlette.requests import Request

from app.auth import Principal, Role
from app.main import create_app
from app.resources import Resources, resources_of
from app.stream import repository
from app.stream.endpoints import stream
from app.stream.evaluator import Evaluator
from app.stream.repository import LoggedEvent, StreamDraft
from app.stream.service import Hub, from_row
from ingest.writer import RawMessage, Writer
from models.events import dump_event
from models.settings import Settings
from models.units import CITY_2025_CODE, PROVINCE_CODE, crosswalk_2025, legacy_units
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY
from tests.helpers import HANG_GUARD, scalar, wait_for
from tests.serving import serving

DRAFT_FIELDS = [f.name for f in fields(StreamDraft)]

pytestmark = pytest.mark.integration


@dataclass
class Server:
    base: str
    app: Any


@pytest.fixture
async def server(clean_db: AsyncEngine, database_url: str) -> AsyncIterator[Server]:
    # Alerts evaluate on change notices; the hourly timer never fires within a test.
    settings = Settings(admin_api_key=ADMIN_API_KEY, alert_interval_seconds=3600)
    app = create_app(database_url, settings=settings)
    async with serving(app, log_level="warning") as base:
        await asyncio.wait_for(resources_of(app).hub.listening.wait(), HANG_GUARD)
        await asyncio.wait_for(resources_of(app).evaluator.leading.wait(), HANG_GUARD)
        yield Server(base, app)


async def events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Parse SSE lines into {id, event, data} dicts."""
    current: dict[str, Any] = {}
    async for line in lines:
        if not line:
            if "data" in current:
                yield current
            current = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            current[field] = json.loads(value) if field == "data" else value


async def ingest(engine: AsyncEngine, docs: list[dict[str, Any]]) -> None:
    messages = [RawMessage("t", 0, i, None, dump_event(d)) for i, d in enumerate(docs)]
    result = await Writer(engine).write(messages)
    assert result.inserted == len(docs)


async def next_event(stream: AsyncIterator[dict[str, Any]], kind: str) -> dict[str, Any]:
    async for event in stream:
        if event["event"] == kind:
            return event
    raise AssertionError("stream ended")


ENCOUNTERS_HERE = {
    "indicator": "health.encounters",
    "unit": b.source_for(b.ev.HEALTH_ENCOUNTER).commune_code,
}
"""A wall's subscription: the encounters of the commune the test's encounters come from."""


@contextlib.asynccontextmanager
async def encounter_streams(
    server: Server, *api_keys: str | None
) -> AsyncIterator[list[AsyncIterator[dict[str, Any]]]]:
    """One stream of ``ENCOUNTERS_HERE`` per key (None: the public), yielded once the hub
    has subscribed them all, so that what is ingested next reaches each of them."""
    async with (
        AsyncClient(base_url=server.base, timeout=HANG_GUARD) as client,
        contextlib.AsyncExitStack() as stack,
    ):
        responses = [
            await stack.enter_async_context(
                client.stream(
                    "GET", "/api/v1/stream",
                    params={**ENCOUNTERS_HERE, **({"api_key": key} if key else {})},
                )
            )
            for key in api_keys
        ]  # fmt: skip
        for response in responses:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
        await wait_for(
            lambda: resources_of(server.app).hub.subscriber_count >= len(api_keys),
            HANG_GUARD,
            "the subscriptions",
        )
        yield [events(response.aiter_lines()) for response in responses]


async def test_a_client_sees_the_update_an_ingest_commit_makes(
    server: Server, clean_db: AsyncEngine
) -> None:
    now = datetime.now(UTC)
    async with encounter_streams(server, None) as (stream,):
        await ingest(clean_db, [b.encounter(now - timedelta(minutes=1), i) for i in range(6)])
        event = await asyncio.wait_for(next_event(stream, "indicator"), HANG_GUARD)

    data = event["data"]
    assert data["indicator"] == "health.encounters"
    assert data["unit_code"] == ENCOUNTERS_HERE["unit"]
    assert data["level"] == "commune" and data["value"] == 6
    assert event["id"].isdigit()  # the stream log's id, the same on every replica


async def test_a_wall_on_either_hierarchy_follows_its_own_units(
    server: Server, clean_db: AsyncEngine
) -> None:
    now = datetime.now(UTC)
    legacy = b.source_for(b.ev.HEALTH_ENCOUNTER).commune_code
    reformed = crosswalk_2025()[legacy]  # the 2025-07-01 commune the source now lies in
    async with AsyncClient(base_url=server.base, timeout=10) as client:
        for name, unit in (("2025", CITY_2025_CODE), ("2025-07-01", reformed),
                           ("2020", PROVINCE_CODE), ("2025-01-01", legacy)):  # fmt: skip
            params = {"hierarchy": name, "unit": unit}
            async with client.stream("GET", "/api/v1/stream", params=params) as response:
                assert response.status_code == 200, (name, unit)
        # A unit is looked up in the hierarchy asked for, not in the other one.
        wrong = await client.get("/api/v1/stream", params={"hierarchy": "2025", "unit": "503"})
        assert wrong.status_code == 404 and "2025" in wrong.text

        # An operator's stream: the public's withholds small health counts.
        params = {"indicator": "health.encounters", "hierarchy": "2025", "unit": reformed,
                  "api_key": ADMIN_API_KEY}  # fmt: skip
        async with client.stream("GET", "/api/v1/stream", params=params) as response:
            stream = events(response.aiter_lines())
            await wait_for(
                lambda: resources_of(server.app).hub.subscriber_count > 0, 5, "subscribing"
            )
            await ingest(clean_db, [b.encounter(now - timedelta(minutes=1), i) for i in range(6)])
            event = await asyncio.wait_for(next_event(stream, "indicator"), 30)
    data = event["data"]
    assert (data["hierarchy"], data["unit_code"], data["level"]) == ("2025", reformed, "commune")
    assert data["value"] == 6
    assert (
        await scalar(
            clean_db, "SELECT count(*) FROM stream_event WHERE data->>'hierarchy' = '2020'"
        )
    ) > 0


async def test_reconnecting_with_last_event_id_resumes(
    server: Server, clean_db: AsyncEngine
) -> None:
    now = datetime.now(UTC)
    params = {"indicator": "health.encounters"}
    async with AsyncClient(base_url=server.base, timeout=HANG_GUARD) as client:
        async with client.stream("GET", "/api/v1/stream", params=params) as response:
            stream = events(response.aiter_lines())
            await wait_for(
                lambda: resources_of(server.app).hub.subscriber_count > 0, HANG_GUARD, "subscribing"
            )
            await ingest(clean_db, [b.encounter(now, 0)])
            first = await asyncio.wait_for(next_event(stream, "indicator"), HANG_GUARD)
        await wait_for(
            lambda: resources_of(server.app).hub.subscriber_count == 0, HANG_GUARD, "the hang-up"
        )

        # While the wall is away, two more encounters arrive.
        await ingest(clean_db, [b.encounter(now, 1), b.encounter(now, 2)])
        newest = 0

        async def logged() -> bool:
            nonlocal newest
            newest = await scalar(clean_db, "SELECT coalesce(max(id), 0) FROM stream_event")
            return newest > int(first["id"])

        await wait_for(logged, HANG_GUARD, "the updates logged", interval=0.05)

        headers = {"Last-Event-ID": first["id"]}
        async with client.stream("GET", "/api/v1/stream", params=params, headers=headers) as r:
            stream = events(r.aiter_lines())
            missed = await asyncio.wait_for(next_event(stream, "indicator"), HANG_GUARD)
        assert int(first["id"]) < int(missed["id"]) <= newest
        assert missed["data"]["indicator"] == "health.encounters"

        # "²" is a digit to str.isdigit() but not to int(): a reset, not a 500.
        odd = {"Last-Event-ID": b"1\xb2"}
        async with client.stream("GET", "/api/v1/stream", params=params, headers=odd) as r:
            assert r.status_code == 200
            reset = await asyncio.wait_for(next_event(events(r.aiter_lines()), "reset"), HANG_GUARD)
        assert "reload" in reset["data"]["reason"]

        stale = {"Last-Event-ID": "old-process:1"}
        async with client.stream("GET", "/api/v1/stream", params=params, headers=stale) as r:
            stream = events(r.aiter_lines())
            reset = await asyncio.wait_for(next_event(stream, "reset"), HANG_GUARD)
        assert "reload" in reset["data"]["reason"]


async def test_public_clients_get_open_indicators_only(server: Server) -> None:
    async with AsyncClient(base_url=server.base, timeout=HANG_GUARD) as client:
        restricted = await client.get("/api/v1/stream", params={"indicator": "data.completeness"})
        assert restricted.status_code == 401
        unknown = await client.get("/api/v1/stream", params={"indicator": "nope.nothing"})
        assert unknown.status_code == 404 and "health.encounters" in unknown.text
        bad_unit = await client.get("/api/v1/stream", params={"unit": "99999"})
        assert bad_unit.status_code == 404
        wrong_key = await client.get("/api/v1/stream", params={"api_key": "nope"})
        assert wrong_key.status_code == 401
        # EventSource cannot send headers: the key may come as a parameter instead.
        params = {"indicator": "data.completeness", "api_key": ADMIN_API_KEY}
        async with client.stream("GET", "/api/v1/stream", params=params) as response:
            assert response.status_code == 200


async def test_an_alert_opened_by_new_data_reaches_operators(
    server: Server, clean_db: AsyncEngine
) -> None:
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE alert"))
    # In the last whole hour, and the same hour a week earlier all outpatients: the share's
    # usual level is 0%.
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    source = b.source_for(b.ev.HEALTH_ENCOUNTER)
    usual = [
        {**b.encounter(hour - timedelta(weeks=1, minutes=-i), 3 * i), "id": str(uuid.uuid4())}
        for i in range(40)
    ]
    # The data starts with an outpatient at the start of the earlier week's 6-hour window,
    # so that window is covered whole (a window before the data starts is not judged).
    usual.append({**b.encounter(hour - timedelta(weeks=1, hours=5), 3), "id": str(uuid.uuid4())})
    operator = {"X-API-Key": ADMIN_API_KEY}
    params = {"indicator": "health.emergency_share"}
    async with (
        AsyncClient(base_url=server.base, timeout=HANG_GUARD) as client,
        client.stream("GET", "/api/v1/stream", params=params, headers=operator) as response,
    ):
        stream = events(response.aiter_lines())
        await wait_for(
            lambda: resources_of(server.app).hub.subscriber_count > 0, HANG_GUARD, "subscribing"
        )
        # Every third of 30 encounters an emergency: 33%, 15 points over the usual 0%.
        now = [b.encounter(hour + timedelta(minutes=i), i) for i in range(30)]
        await ingest(clean_db, usual + now)  # one batch, one notice
        alert = (await asyncio.wait_for(next_event(stream, "alert"), HANG_GUARD))["data"]
    assert alert["rule_code"] == "health.emergency_share_high"
    assert alert["status"] == "open" and alert["value"] == 33.33
    assert alert["unit_code"] == next(
        u.parent_code for u in legacy_units() if u.code == source.commune_code
    )


async def test_a_client_gone_before_the_body_starts_leaves_no_subscription() -> None:
    unused = cast(AsyncEngine, None), "postgresql://unused/ioc"
    hub = Hub(*unused, Evaluator(*unused, alert_interval=0, volume_scale=1.0))
    resources = cast(Resources, SimpleNamespace(hub=hub))
    public = Principal(Role.PUBLIC, "public", authenticated=False)
    request = cast(Request, SimpleNamespace())
    response = await stream(request, resources, public, None, None, None, None)
    # The server never iterates the body of a client that hung up at once.
    assert response.status_code == 200 and hub.subscriber_count == 0


async def test_the_public_stream_withholds_small_health_counts_an_operator_sees(
    server: Server, clean_db: AsyncEngine
) -> None:
    now = datetime.now(UTC)
    async with encounter_streams(server, None, ADMIN_API_KEY) as (public_events, operator_events):
        await ingest(clean_db, [b.encounter(now - timedelta(minutes=1), i) for i in range(3)])
        seen = (await asyncio.wait_for(next_event(public_events, "indicator"), HANG_GUARD))["data"]
        full = (await asyncio.wait_for(next_event(operator_events, "indicator"), HANG_GUARD))[
            "data"
        ]
    assert seen["unit_code"] == full["unit_code"] == ENCOUNTERS_HERE["unit"]
    assert (seen["value"], seen["numerator"], seen["suppressed"]) == (None, None, True)
    assert (full["value"], full["suppressed"]) == (3, False)


async def test_a_client_misses_no_update_committed_after_its_response_headers(
    server: Server, clean_db: AsyncEngine
) -> None:
    """The headers go out before the body starts (and subscribes): an update the hub hands
    out in between still reaches the client."""
    now = datetime.now(UTC)
    source = b.source_for(b.ev.HEALTH_ENCOUNTER)
    public = Principal(Role.PUBLIC, "public", authenticated=False)
    request = cast(Request, SimpleNamespace(app=server.app))
    await wait_for(lambda: resources_of(server.app).hub.position is not None, HANG_GUARD, "the hub")
    # As the server does: the route answers, the headers are sent; the body waits its turn.
    response = await stream(
        request,
        resources_of(server.app),
        public,
        ["health.encounters"],
        [source.commune_code],
        None,
        None,
    )
    body = cast(AsyncIterator[ServerSentEvent], response.body_iterator)
    params = {"indicator": "health.encounters", "unit": source.commune_code}
    async with (
        AsyncClient(base_url=server.base, timeout=HANG_GUARD) as client,
        client.stream("GET", "/api/v1/stream", params=params) as watcher,
    ):
        await wait_for(
            lambda: resources_of(server.app).hub.subscriber_count > 0, HANG_GUARD, "a watcher"
        )
        await ingest(clean_db, [b.encounter(now - timedelta(minutes=1), i) for i in range(6)])
        handed_out = await asyncio.wait_for(
            next_event(events(watcher.aiter_lines()), "indicator"), HANG_GUARD
        )
    try:
        async with asyncio.timeout(HANG_GUARD):
            sent = [e async for e in _until_indicator(body)]
    finally:
        await cast(Any, body).aclose()
    event = sent[-1]
    assert event.id == handed_out["id"]
    assert json.loads(str(event.data)) == handed_out["data"]


async def _until_indicator(body: AsyncIterator[ServerSentEvent]) -> AsyncIterator[ServerSentEvent]:
    async for event in body:
        yield event
        if event.event == "indicator":
            return


async def test_the_log_gives_back_what_was_appended_as_typed_rows(clean_db: AsyncEngine) -> None:
    drafts = [
        StreamDraft("alert", {"id": 7}, "health.encounters", ["20335"], True, False),
        StreamDraft("source", {"source": "his/x"}, None, [], False, True),
    ]
    async with clean_db.begin() as conn:
        ids = await repository.append(conn, drafts)
        logged = await repository.after(conn, ids[0] - 1, 10)
    assert [type(e) for e in logged] == [LoggedEvent, LoggedEvent]
    assert [e.id for e in logged] == ids
    assert [StreamDraft(**{f: getattr(e, f) for f in DRAFT_FIELDS}) for e in logged] == drafts
    assert [from_row(e).units for e in logged] == [frozenset({"20335"}), frozenset()]

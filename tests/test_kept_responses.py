"""Kept answers sent again before routing, and the snapshot reads they depend on: the same
response as the route's, only to requests without a key, only while the data is unchanged;
and a snapshot that always holds every commit made before it was asked for."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Receive, Scope, Send

from app.kit.changes import ANYTHING
from app.kit.kept_responses import KeptResponses
from app.kit.snapshots import Snapshots
from app.resources import resources_of
from models.db import at_rest
from tests import ingest_builders as b
from tests.conftest import ADMIN_API_KEY
from tests.test_answer_cache import QUESTIONS, encounters, kept
from tests.test_export import ingest

VALUES, DAY = QUESTIONS[0]


def layer_of(api: AsyncClient) -> KeptResponses:
    app: Any = api.app  # type: ignore[attr-defined]
    found = app.middleware_stack
    while not isinstance(found, KeptResponses):
        found = found.app
    return found


async def unreachable(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError(f"routed: {scope['path']}")


def requests_counted(api: AsyncClient, route: str) -> float:
    registry = resources_of(api.app).metrics  # type: ignore[attr-defined]
    labels = {"method": "GET", "route": route, "status": "200"}
    return registry.get_sample_value("ioc_api_requests_total", labels) or 0.0


@pytest.mark.integration
async def test_a_kept_response_is_sent_again_as_it_was_without_routing(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    commune = b.source_for(b.ev.HEALTH_ENCOUNTER).commune_code
    await ingest(clean_db, encounters(12, commune))
    await at_rest(clean_db)
    first = [await api.get(path, params=params) for path, params in QUESTIONS]
    layer = layer_of(api)
    routes, layer.app = layer.app, unreachable  # from now on, routing fails the request
    before = kept(api)
    again = [await api.get(path, params=params) for path, params in QUESTIONS]
    assert kept(api) - before == len(QUESTIONS)
    for one, other in zip(first, again, strict=True):
        assert other.status_code == one.status_code == 200
        assert other.content == one.content
        assert other.headers.multi_items() == one.headers.multi_items()
    assert requests_counted(api, "/api/v1/indicators/{code}/values") == 2 * 3

    # A key, even the public's questions: the route answers (and here, fails).
    with pytest.raises(AssertionError, match="routed"):
        await api.get(VALUES, params=DAY, headers={"X-API-Key": ADMIN_API_KEY})
    with pytest.raises(AssertionError, match="routed"):
        await api.get(VALUES, params=DAY, headers={"Authorization": "Basic eDp5"})

    # New events: the data changed, so the route answers again.
    await ingest(clean_db, encounters(9, commune, first=100))
    with pytest.raises(AssertionError, match="routed"):
        await api.get(VALUES, params=DAY)
    layer.app = routes
    day = (await api.get(VALUES, params=DAY)).json()
    assert {v["unit_code"]: v["numerator"] for v in day["values"]}[commune] == 21


@pytest.mark.integration
async def test_a_snapshot_holds_every_commit_before_it_and_outlives_a_lost_connection(
    clean_db: AsyncEngine, database_url: str
) -> None:
    snapshots = Snapshots(database_url)
    try:
        before = await snapshots.now()
        async with clean_db.begin() as conn:
            await conn.execute(text("SELECT pg_current_xact_id()"))  # a transaction id, used
        after = await snapshots.now()
        assert after != before
        assert await snapshots.now() == after  # nothing committed since
        async with clean_db.begin() as conn:  # the snapshot connection is cut
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE '%pg_current_snapshot%' AND pid <> pg_backend_pid()"
                )
            )
        again = await snapshots.now()
        assert again.snapshot == after.snapshot
        # Another connection may be another server (a standby promoted without the last
        # commits): the epoch moves on, anything may have changed.
        assert again.epoch == after.epoch + 1
        assert snapshots.epochs.since(after.epoch, again.epoch) == ANYTHING
    finally:
        await snapshots.close()


class Counted(Snapshots):
    """Reads the number of commits made so far, at the start of each read, then takes a
    while: the order of events a real read has, with the commits counted."""

    def __init__(self) -> None:
        super().__init__("postgresql+psycopg://unused")
        self.commits = 0
        self.reads = 0

    async def _read(self) -> str:
        self.reads += 1
        seen = self.commits
        await asyncio.sleep(0.002)
        return str(seen)


async def test_a_request_never_shares_a_read_begun_before_it_asked() -> None:
    snapshots = Counted()

    async def client(n: int) -> None:
        for _ in range(20):
            snapshots.commits += 1  # this client's own commit, then its read
            committed = snapshots.commits
            assert int((await snapshots.now()).snapshot) >= committed
            await asyncio.sleep(0.001 * (n % 3))

    await asyncio.gather(*(client(n) for n in range(30)))
    assert snapshots.reads < 30 * 20 / 3  # reads were shared
    await snapshots.close()


class Interrupted(Counted):
    """Its first look-up of what the commits between two snapshots changed fails."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def _since(self, before: str, after: str) -> float:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the look-up failed")
        return 1.0


async def test_a_snapshot_whose_changes_were_not_read_is_read_again() -> None:
    snapshots = Interrupted()
    first = await snapshots.now()
    snapshots.commits += 1
    with pytest.raises(RuntimeError):
        await snapshots.now()
    again = await snapshots.now()  # the same new snapshot: its changes are looked up again
    assert again.snapshot != first.snapshot
    assert again.epoch == first.epoch + 1
    assert snapshots.epochs.since(first.epoch, again.epoch) == 1.0
    await snapshots.close()

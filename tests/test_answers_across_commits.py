"""Kept answers across commits: an answer outlives a commit that cannot change it (today's
events, for last year's figures) and no other; what a commit may have changed comes from
the change log its transaction wrote, and a commit that wrote none changed everything."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.answers import MARGIN
from app.kit.buckets import LOCAL
from app.kit.changes import ANYTHING, NOTHING, changed_since
from app.kit.connections import connect
from ingest.maintenance import drop_changes_before
from models.catalogue import CATALOGUE
from models.db import at_rest
from models.tables.changes import KEEP, LOG_CHANGE
from simulators.runner import collect
from simulators.streams import make_streams
from tests import ingest_builders as b
from tests.test_answer_cache import QUESTIONS, encounters, kept
from tests.test_export import ingest
from tests.test_kept_responses import layer_of, unreachable

pytestmark = pytest.mark.integration

COMMUNE = b.source_for(b.ev.HEALTH_ENCOUNTER).commune_code
RECEIVED = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)
ON_TIME = (
    "/api/v1/indicators/ps.on_time_rate/values",
    {"from": "2025-06-02T00:00:00+07:00", "to": "2025-06-03T00:00:00+07:00", "level": "commune"},
)


def live(n: int, first: int) -> list[dict[str, object]]:
    """Encounters of the last minutes: a live feed's batch."""
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        b.encounter(now - timedelta(minutes=2, seconds=i), first + i, subject=COMMUNE)
        for i in range(n)
    ]


ATTEMPTS = 3


async def snapshot(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        return str(await conn.scalar(text("SELECT pg_current_snapshot()::text")))


async def unlogged_commit_since(engine: AsyncEngine, start: str) -> bool:
    """Whether a transaction that wrote no change-log row committed since ``start``."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        return await changed_since(raw.driver_connection, start, await snapshot(engine)) == ANYTHING


async def asked(api: AsyncClient, questions: list[tuple[str, dict[str, str]]]) -> list[bytes]:
    return [(await api.get(path, params=params)).content for path, params in questions]


async def test_an_answer_outlives_commits_that_cannot_change_it_and_no_other(
    api: AsyncClient,
    uncached: AsyncClient,
    clean_db: AsyncEngine,
) -> None:
    await ingest(clean_db, encounters(12, COMMUNE))
    for attempt in range(ATTEMPTS):
        await at_rest(clean_db)
        start = await snapshot(clean_db)
        first = await asked(api, QUESTIONS)
        layer = layer_of(api)  # built at the first request
        routes = layer.app

        # Today's events (and the live stream's reaction to them) commit: last June stands.
        await ingest(clean_db, live(7, first=500 + 10 * attempt))
        await at_rest(clean_db)
        layer.app = unreachable  # from now on, routing fails the request
        before = kept(api)
        try:
            again = await asked(api, QUESTIONS)
            break
        except AssertionError:
            # The server's own commits (autovacuum's statistics, an extension's background
            # job) log nothing and may change anything: when one came in between, the step
            # did not test what it means to, and is made again. The product's own commits
            # are logged whenever they come, so a commit of its own that is not fails
            # every attempt.
            if attempt == ATTEMPTS - 1 or not await unlogged_commit_since(clean_db, start):
                raise
        finally:
            layer.app = routes
    assert kept(api) - before == len(QUESTIONS)
    fresh = await asked(uncached, QUESTIONS)
    # The exports carry the moment they were written: compare the values routes only.
    values = [i for i, (path, _) in enumerate(QUESTIONS) if "/export/" not in path]
    assert [again[i] for i in values] == [fresh[i] for i in values] == [first[i] for i in values]

    # A late event of that day: its answers are computed again, with it.
    await ingest(clean_db, encounters(1, COMMUNE, first=900))
    layer.app = unreachable
    with pytest.raises(AssertionError, match="routed"):
        await api.get(QUESTIONS[0][0], params=QUESTIONS[0][1])
    layer.app = routes
    day = (await api.get(QUESTIONS[0][0], params=QUESTIONS[0][1])).json()
    assert {v["unit_code"]: v["numerator"] for v in day["values"]}[COMMUNE] == 13


async def test_a_commit_that_logged_nothing_sends_every_answer_back(
    api: AsyncClient, clean_db: AsyncEngine
) -> None:
    await ingest(clean_db, encounters(12, COMMUNE))
    await at_rest(clean_db)
    await asked(api, QUESTIONS)
    async with clean_db.begin() as conn:  # a transaction id, committed, and no log row
        await conn.execute(text("SELECT pg_current_xact_id()"))
    layer = layer_of(api)
    layer.app = unreachable
    with pytest.raises(AssertionError, match="routed"):
        await api.get(QUESTIONS[0][0], params=QUESTIONS[0][1])


async def test_a_lifecycle_event_of_today_reaches_back_to_its_entitys_moments(
    api: AsyncClient,
    uncached: AsyncClient,
    clean_db: AsyncEngine,
) -> None:
    commune = b.source_for(b.ev.PUBLIC_SERVICE_DOSSIER).commune_code
    path, params = ON_TIME[0], {**ON_TIME[1], "unit": commune}
    await ingest(clean_db, [b.dossier("D-1", "received", RECEIVED, RECEIVED, subject=commune)])
    await at_rest(clean_db)
    first = (await api.get(path, params=params)).json()

    # Seen first today, at its completion, though received that day (and open at its end).
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    await ingest(clean_db, [b.dossier("D-2", "completed", now, RECEIVED, subject=commune)])
    await at_rest(clean_db)
    again = (await api.get(path, params=params)).json()
    fresh = (await uncached.get(path, params=params)).json()
    assert again == fresh
    assert again != first
    denominators = [v["denominator"] for v in again["values"] if v["unit_code"] == commune]
    assert denominators == [2]


async def test_the_commits_between_two_snapshots_are_read_from_the_change_log(
    clean_db: AsyncEngine, database_url: str
) -> None:
    reader = await connect(database_url)
    snapshot = "SELECT pg_current_snapshot()::text"

    async def now() -> str:
        return str((await (await reader.execute(snapshot)).fetchone())[0])

    async def commit(since: str | None, *, abort: bool = False) -> None:
        async with clean_db.connect() as conn:
            await conn.execute(text("SELECT pg_current_xact_id()"))
            if since is not None:
                await conn.exec_driver_sql(LOG_CHANGE, {"since": since})
            await (conn.rollback() if abort else conn.commit())

    try:
        a = await now()
        assert await changed_since(reader, a, await now()) == NOTHING  # no commit

        await commit("2025-06-02T00:00:00+00:00")
        await commit("2026-01-01T00:00:00+00:00")
        b_ = await now()
        assert await changed_since(reader, a, b_) == datetime(2025, 6, 2, tzinfo=UTC).timestamp()

        await commit("infinity")
        c = await now()
        assert await changed_since(reader, b_, c) == math.inf

        await commit("2020-01-01T00:00:00+00:00", abort=True)  # rolled back: changed nothing
        d = await now()
        assert await changed_since(reader, c, d) == NOTHING

        await commit(None)  # committed without a row: anything may have changed
        e = await now()
        assert await changed_since(reader, d, e) == ANYTHING
        assert await changed_since(reader, c, e) == ANYTHING

        # A transaction running at the first snapshot, committed before the second.
        async with clean_db.connect() as conn:
            await conn.execute(text("SELECT pg_current_xact_id()"))
            await conn.exec_driver_sql(LOG_CHANGE, {"since": "2024-05-01T00:00:00+00:00"})
            f = await now()
            await conn.commit()
        g = await now()
        assert await changed_since(reader, f, g) == datetime(2024, 5, 1, tzinfo=UTC).timestamp()
    finally:
        await reader.close()


async def test_upkeep_prunes_the_change_log_and_logs_that_it_changed_nothing(
    clean_db: AsyncEngine,
) -> None:
    async with clean_db.begin() as conn:
        await conn.execute(text("DELETE FROM change_log WHERE xid IN (1, 2)"))
        await conn.execute(
            text(
                "INSERT INTO change_log (xid, since, logged_at) VALUES "
                "(1, now(), now() - interval '61 minutes'),"
                " (2, now(), now() - interval '59 minutes')"
            )
        )
    async with clean_db.begin() as conn:
        assert await drop_changes_before(conn, datetime.now(UTC) - KEEP) >= 1
        own = await conn.scalar(
            text(
                "SELECT since = 'infinity' FROM change_log "
                "WHERE xid = pg_current_xact_id()::text::bigint"
            )
        )
        assert own is True
    async with clean_db.connect() as conn:
        left = set((await conn.execute(text("SELECT xid FROM change_log WHERE xid < 3"))).scalars())
    assert left == {2}


async def test_a_range_ending_inside_its_last_bucket_reads_to_that_buckets_end(
    api: AsyncClient,
    uncached: AsyncClient,
    clean_db: AsyncEngine,
) -> None:
    commune = b.source_for(b.ev.PUBLIC_SERVICE_DOSSIER).commune_code
    path = ON_TIME[0]
    # June asked as a month, to its 10th: the value is the whole month's, open at its end.
    params = {"from": "2025-06-01T00:00:00+07:00", "to": "2025-06-10T00:00:00+07:00",
              "bucket": "month", "unit": commune, "level": "commune"}  # fmt: skip
    await ingest(clean_db, [b.dossier("D-1", "received", RECEIVED, RECEIVED, subject=commune)])
    await at_rest(clean_db)
    first = (await api.get(path, params=params)).json()

    # Received on the 20th, more than 8 days past the range's end, within its month.
    late = datetime(2025, 6, 20, 2, 0, tzinfo=UTC)
    await ingest(clean_db, [b.dossier("D-3", "received", late, late, subject=commune)])
    await at_rest(clean_db)
    again = (await api.get(path, params=params)).json()
    assert again == (await uncached.get(path, params=params)).json()
    assert again != first


def _simulated(seed: int, start: datetime, days: int) -> list[dict[str, object]]:
    return collect(make_streams(seed, scale=0.05), start, start + timedelta(days=days))


async def test_nothing_counting_from_the_horizon_on_changes_a_settled_answer(
    uncached: AsyncClient, clean_db: AsyncEngine
) -> None:
    """The claim kept answers rest on, checked on answers computed afresh: every indicator
    of a simulated day (district by day, province by hour, a ranking) is the same after a
    day of every stream counting from the horizon on (``MARGIN`` past the day's end) is
    stored; and a late event of the day itself does change them."""
    day = datetime(2025, 6, 2, tzinfo=LOCAL)
    end = day + timedelta(days=1)
    await ingest(clean_db, _simulated(11, day - timedelta(days=1), 2))
    horizon = end + MARGIN
    later = [
        d for d in _simulated(12, horizon, 1)
        if str(d["data"].get("received_at", horizon.isoformat())) >= horizon.isoformat()  # type: ignore[union-attr]
    ]  # fmt: skip
    span = {"from": day.isoformat(), "to": end.isoformat()}
    questions = [
        (f"/api/v1/indicators/{i.code}/values", {**span, "level": level, "bucket": bucket})
        for i in CATALOGUE
        for level, bucket in (("district", "day"), ("province", "hour"))
    ] + [
        (f"/api/v1/indicators/{i.code}/ranking", {"period": day.isoformat(), "bucket": "day"})
        for i in CATALOGUE
    ]
    before = await asked(uncached, questions)

    await ingest(clean_db, later)
    async with clean_db.connect() as conn:
        since = await conn.scalar(
            text("SELECT since FROM change_log ORDER BY logged_at DESC, xid DESC LIMIT 1")
        )
    assert since >= horizon  # the batch logged that it counts from the horizon on
    assert await asked(uncached, questions) == before

    await ingest(clean_db, [b.encounter(day + timedelta(hours=9), 99, subject=COMMUNE)])
    assert await asked(uncached, questions) != before

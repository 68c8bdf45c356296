"""What a fault test sent, and the check that ends every fault test: the store holds each
unique event (by source and id) exactly once, and the roll-ups count exactly those.

The expected figures are computed here from the events themselves (rows per event table,
events per source and hour, each counter's count per hour, one state row per dossier),
never from the product's SQL.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from models import events as ev
from models.sources import source_registry
from tests import ingest_builders as b

Doc = dict[str, Any]

TYPES = (
    ev.HEALTH_ENCOUNTER,
    ev.HEALTH_CLAIM,
    ev.HEALTH_BED_CENSUS,
    ev.TOURISM_ARRIVAL,
    ev.PUBLIC_SERVICE_DOSSIER,
)
EVENT_TABLE = {
    ev.HEALTH_ENCOUNTER.type: "health_encounter",
    ev.HEALTH_CLAIM.type: "health_claim",
    ev.HEALTH_BED_CENSUS.type: "health_bed_census",
    ev.TOURISM_ARRIVAL.type: "tourism_arrival",
    ev.PUBLIC_SERVICE_DOSSIER.type: "public_service_dossier_event",
    ev.EDUCATION_ATTENDANCE.type: "education_attendance",
    ev.EDUCATION_REPORT.type: "education_report",
    ev.TOURISM_FEEDBACK.type: "tourism_feedback",
    ev.CITIZEN_REPORT.type: "citizen_report_event",
}
COUNTED_BY = {
    ev.HEALTH_ENCOUNTER.type: ("health_encounter_hourly", "encounters"),
    ev.HEALTH_CLAIM.type: ("health_claim_hourly", "claims"),
    ev.HEALTH_BED_CENSUS.type: ("health_bed_census_hourly", "readings"),
    ev.TOURISM_ARRIVAL.type: ("tourism_arrival_hourly", "arrivals"),
    ev.EDUCATION_ATTENDANCE.type: ("education_attendance_hourly", "readings"),
    ev.EDUCATION_REPORT.type: ("education_report_hourly", "reports"),
    ev.TOURISM_FEEDBACK.type: ("tourism_feedback_hourly", "feedback"),
}
"""The roll-up of each counter and gauge stream and its one-per-event measure."""


def _hour(doc: Doc) -> datetime:
    at = datetime.fromisoformat(doc["time"]).astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


@dataclass
class Ledger:
    """Every message a test sent; the first of each (source, id) is the one to be kept."""

    unique: dict[tuple[str, str], Doc] = field(default_factory=dict)
    sent: int = 0

    def record(self, doc: Doc) -> None:
        self.sent += 1
        self.unique.setdefault((doc["source"], doc["id"]), doc)

    def record_all(self, docs: list[Doc]) -> None:
        for doc in docs:
            self.record(doc)

    def by_type(self) -> Counter[str]:
        return Counter(d["type"] for d in self.unique.values())


class Workload:
    """Valid events of five streams from registered sources, the last three days, with
    re-sends of earlier events (same bytes) and of earlier ids with another time."""

    def __init__(self, seed: int, now: datetime | None = None) -> None:
        self._rng = random.Random(seed)
        self._now = now or datetime.now(UTC)
        self._sent: list[Doc] = []
        self._sources = {
            t.type: [s for s in source_registry() if t.type in s.event_types] for t in TYPES
        }

    def _fresh(self) -> Doc:
        rng = self._rng
        event_type = rng.choice(TYPES)
        source = rng.choice(self._sources[event_type.type])
        at = self._now - timedelta(seconds=rng.randint(60, 3 * 86400))
        attrs = {"source": source.code, "subject": source.commune_code}
        i = rng.randint(0, 999)
        if event_type is ev.HEALTH_ENCOUNTER:
            return b.encounter(at, i, **attrs)
        if event_type is ev.HEALTH_CLAIM:
            return b.claim(at, i, **attrs)
        if event_type is ev.HEALTH_BED_CENSUS:
            return b.bed_census(at, occupied=rng.randint(0, 200), **attrs)
        if event_type is ev.TOURISM_ARRIVAL:
            return b.arrival(at, i, **attrs)
        dossier_id = f"D-{uuid.uuid4().hex[:12]}"
        return b.dossier(dossier_id, "received", at, at, **attrs)

    def next(self) -> Doc:
        """A new event (85 %), the same message again (10 %) or an earlier id at another
        time (5 %): dedupe is by (source, id) whatever the time."""
        roll = self._rng.random()
        if self._sent and roll < 0.10:
            return self._rng.choice(self._sent)
        if self._sent and roll < 0.15:
            earlier = self._rng.choice(self._sent)
            moved = datetime.fromisoformat(earlier["time"]) - timedelta(hours=5)
            return {**earlier, "time": moved.isoformat()}
        doc = self._fresh()
        self._sent.append(doc)
        return doc

    def batch(self, n: int) -> list[Doc]:
        return [self.next() for _ in range(n)]


async def produce(producer: AIOKafkaProducer, prefix: str, docs: list[Doc]) -> None:
    """Publish each document to its type's topic, keyed by source, and wait for the acks."""
    futures = [
        await producer.send(
            ev.REGISTRY[d["type"]].topic(prefix), orjson.dumps(d), key=d["source"].encode()
        )
        for d in docs
    ]
    await asyncio.gather(*futures)


async def stored_keys(engine: AsyncEngine) -> int:
    """Distinct (source, id) stored over every event table: a doubled row is not progress."""
    sql = " + ".join(
        f"(SELECT count(DISTINCT (source, event_id)) FROM {t})"
        for t in sorted(set(EVENT_TABLE.values()))
    )
    async with engine.connect() as conn:
        return int(await conn.scalar(text(f"SELECT {sql}")) or 0)


async def wait_stored(
    engine: AsyncEngine, expected: int, what: str, seconds: float = 240, stalled: float = 60
) -> None:
    """Poll until ``expected`` distinct events are stored; give up after ``seconds``, or
    after ``stalled`` seconds without progress (the check then says what is missing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    last, last_change = -1, loop.time()
    while (keys := await stored_keys(engine)) < expected:
        now = loop.time()
        if keys != last:
            last, last_change = keys, now
        if now > deadline or now - last_change > stalled:
            return
        await asyncio.sleep(0.5)


async def _rows(engine: AsyncEngine, sql: str) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql))).all())


async def differences(engine: AsyncEngine, ledger: Ledger) -> list[str]:
    """Every way the store differs from the unique events sent (empty when exact)."""
    problems: list[str] = []
    expected = ledger.unique
    stored: Counter[tuple[str, str]] = Counter()
    for event_type, table in EVENT_TABLE.items():
        rows = await _rows(engine, f"SELECT source, event_id::text FROM {table}")
        keys = Counter((r[0], r[1]) for r in rows)
        stored.update(keys)
        wanted = {k for k, d in expected.items() if d["type"] == event_type}
        lost = wanted - set(keys)
        extra = set(keys) - wanted
        doubled = sum(n - 1 for n in keys.values() if n > 1)
        if lost or extra or doubled:
            problems.append(
                f"{table}: {len(lost)} lost, {len(extra)} not sent, {doubled} doubled "
                f"(of {len(wanted)} unique sent)"
            )

    want_hourly = Counter((d["source"], d["type"], _hour(d)) for d in expected.values())
    got_hourly = Counter(
        {
            (r[0], r[1], r[2]): int(r[3])
            for r in await _rows(
                engine,
                "SELECT source, event_type, bucket_start, sum(events) FROM source_hourly "
                "GROUP BY 1, 2, 3",
            )
        }
    )
    if got_hourly != want_hourly:
        problems.append(
            f"source_hourly: {sum((want_hourly - got_hourly).values())} events missing, "
            f"{sum((got_hourly - want_hourly).values())} too many"
        )

    for event_type, (table, measure) in COUNTED_BY.items():
        want = Counter(_hour(d) for d in expected.values() if d["type"] == event_type)
        got = Counter(
            {
                r[0]: int(r[1])
                for r in await _rows(
                    engine, f"SELECT bucket_start, sum({measure}) FROM {table} GROUP BY 1"
                )
            }
        )
        if +got != +want:
            problems.append(
                f"{table}.{measure}: {sum((want - got).values())} missing, "
                f"{sum((got - want).values())} too many"
            )

    dossiers = {
        d["data"]["dossier_id"]
        for d in expected.values()
        if d["type"] == ev.PUBLIC_SERVICE_DOSSIER.type
    }
    states = await _rows(engine, "SELECT dossier_id FROM public_service_dossier")
    if sorted(r[0] for r in states) != sorted(dossiers):
        problems.append(f"public_service_dossier: {len(states)} states, {len(dossiers)} dossiers")
    return problems


async def differences_after_drain(engine: AsyncEngine, ledger: Ledger) -> list[str]:
    await wait_stored(engine, len(ledger.unique), "every unique event to be stored")
    return await differences(engine, ledger)


async def assert_exact(engine: AsyncEngine, ledger: Ledger) -> None:
    """0 lost, 0 doubled, roll-ups equal to the unique events sent."""
    problems = await differences_after_drain(engine, ledger)
    assert not problems, f"{ledger.sent} messages sent, {len(ledger.unique)} unique: " + "; ".join(
        problems
    )

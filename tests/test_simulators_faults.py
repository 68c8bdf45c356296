"""Faults at the rates asked for, and the HTTP sink against a local ASGI stub."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from ingest.topics import ensure_topics
from ingest.validation import Validator
from models.events import EventRejected, RejectReason, parse_event
from models.settings import Settings
from models.units import commune_codes
from simulators.citizen import CitizenReportStream
from simulators.faults import FaultInjector, parse_faults
from simulators.health import HealthEncounterStream
from simulators.public_service import DossierStream
from simulators.runner import RunStats, backfill, hour_batches
from simulators.sinks import HttpSink, Message, Outgoing, encode

START = datetime(2025, 3, 3, 1, tzinfo=UTC)  # Monday 08:00 local
RATE = 0.04


class ListSink:
    def __init__(self) -> None:
        self.items: list[Outgoing] = []

    async def send(self, items: Sequence[Outgoing]) -> None:
        self.items.extend(items)

    async def close(self) -> None:
        return None


def test_parse_faults_reads_rates_and_refuses_nonsense() -> None:
    assert parse_faults(["duplicates=0.01", "late=0.5,malformed"]) == {
        "duplicates": 0.01,
        "late": 0.5,
        "malformed": 0.01,
    }
    with pytest.raises(ValueError, match="unknown fault"):
        parse_faults(["gremlins=0.1"])
    with pytest.raises(ValueError, match="not in"):
        parse_faults(["late=2"])


async def test_per_event_faults_come_at_their_rates_and_do_what_they_say() -> None:
    kinds = ("duplicates", "out_of_order", "late", "malformed", "schema", "unknown_commune")
    injector = FaultInjector(seed=3, rates=dict.fromkeys(kinds, RATE))
    sink, stats = ListSink(), RunStats()
    streams = [HealthEncounterStream(seed=3)]
    await backfill(streams, sink, START, START + timedelta(hours=8), faults=injector, stats=stats)
    generated = sum(stats.generated.values())
    assert generated > 5_000
    for kind in kinds:
        assert abs(injector.counts[kind] / generated - RATE) < 0.012, kind
    assert len(sink.items) == generated + injector.counts["duplicates"]

    reasons: Counter[str] = Counter()
    unknown = 0
    for item in sink.items:
        try:
            event = parse_event(encode(item).value)
        except EventRejected as exc:
            reasons[exc.reason] += 1
            continue
        unknown += event.envelope.subject not in commune_codes()
    assert reasons[RejectReason.BAD_JSON] >= injector.counts["malformed"]
    assert reasons[RejectReason.SCHEMA] > 0.6 * injector.counts["schema"]
    assert unknown > 0.6 * injector.counts["unknown_commune"]
    ids = Counter(orjson.loads(encode(i).value)["id"] for i in sink.items if _json(i))
    assert sum(n - 1 for n in ids.values()) > 0.6 * injector.counts["duplicates"]


async def test_late_events_leave_hours_after_they_happened() -> None:
    injector = FaultInjector(seed=5, rates={"late": 0.05})
    streams = [HealthEncounterStream(seed=5)]
    late = 0
    for hour_start, events in hour_batches(streams, START, START + timedelta(hours=30)):
        for item in injector.apply(hour_start, events):
            moment = datetime.fromisoformat(item["time"] if isinstance(item, dict) else "")
            if moment < hour_start:
                late += 1
                assert hour_start - moment > timedelta(minutes=1)
    held = len(injector.flush())
    assert late + held == injector.counts["late"] > 100


def test_silence_and_clock_skew_go_by_source_and_day() -> None:
    injector = FaultInjector(seed=7, rates={"silent": 0.2, "clock_skew": 0.2})
    stream = DossierStream(seed=7)
    sent: Counter[str] = Counter()
    for hour_start, events in hour_batches([stream], START, START + timedelta(hours=10)):
        for item in injector.apply(hour_start, events):
            assert isinstance(item, dict)
            sent[item["source"]] += 1
    decided = list(injector._per_day.values())
    assert len(decided) > 200
    silent = sum(s is not None for s, _ in decided) / len(decided)
    skewed = [skew for _, skew in decided if skew]
    assert abs(silent - 0.2) < 0.07
    assert abs(len(skewed) / len(decided) - 0.2) < 0.07
    assert all(120 <= abs(s) <= 1800 for s in skewed)
    assert injector.counts["silent"] > 0 and injector.counts["clock_skew"] > 0


def _json(item: Outgoing) -> bool:
    try:
        orjson.loads(encode(item).value)
    except orjson.JSONDecodeError:
        return False
    return True


def gateway_stub(seen: list[tuple[dict[str, str], bytes]], fail_first: list[bool]) -> Any:
    """A tiny ASGI app standing in for ``POST /api/v1/events``: 503 once, then 400 / 202."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        assert (scope["method"], scope["path"]) == ("POST", "/api/v1/events")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if fail_first and fail_first.pop():
            status = 503
        else:
            seen.append((headers, body))
            try:
                orjson.loads(body)
                status = 202
            except orjson.JSONDecodeError:
                status = 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def test_http_sink_posts_batches_with_the_api_key_and_isolates_broken_bytes() -> None:
    seen: list[tuple[dict[str, str], bytes]] = []
    transport = httpx.ASGITransport(app=gateway_stub(seen, [True]))
    sink = HttpSink("http://gateway", "k-123", batch_size=40, transport=transport)
    events = [
        e
        for _, batch in hour_batches(
            [HealthEncounterStream(seed=1)], START, START + timedelta(hours=1)
        )
        for e in batch
    ][:100]
    broken = Message(events[0]["type"], b"his/TTYT-502", b'{"specversion":"1.0","id":')
    await sink.send([*events[:50], broken, *events[50:]])
    await sink.close()

    assert all(h["x-api-key"] == "k-123" for h, _ in seen)
    assert all(h["content-type"] == "application/cloudevents-batch+json" for h, _ in seen)
    good = [orjson.loads(body) for _, body in seen if body != b"[" + broken.value + b"]"]
    assert [e for batch in good for e in batch] == events  # every event once, in order
    assert max(len(batch) for batch in good) == 40
    assert sink.responses == Counter({202: len(good), 400: 1})
    assert sink.rejected_requests == 1


def test_the_same_seed_injects_the_same_faults() -> None:
    rates = {"duplicates": 0.05, "malformed": 0.05, "late": 0.05, "clock_skew": 0.3}
    runs = []
    for _ in range(2):
        injector = FaultInjector(seed=9, rates=rates)
        batches = hour_batches([HealthEncounterStream(seed=9)], START, START + timedelta(hours=3))
        out = [encode(i).value for h, events in batches for i in injector.apply(h, events)]
        runs.append(out + [encode(i).value for i in injector.flush()])
    assert runs[0] == runs[1]
    other = FaultInjector(seed=10, rates=rates)
    batches = hour_batches([HealthEncounterStream(seed=9)], START, START + timedelta(hours=3))
    assert [encode(i).value for h, e in batches for i in other.apply(h, e)] != runs[0]


class RecordingHttpSink(HttpSink):
    """The HTTP sink, keeping a copy of every message it was asked to send."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[bytes] = []

    async def send(self, items: Sequence[Outgoing]) -> None:
        self.sent += [encode(i).value for i in items]
        await super().send(items)


@pytest.mark.integration
async def test_http_sink_against_the_real_gateway(
    clean_db: AsyncEngine, database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    admin = "simulator-test-admin-key-0123456789"
    app = create_app(
        database_url, kafka_bootstrap, Settings(admin_api_key=admin, topic_prefix=topic_prefix)
    )
    await ensure_topics(kafka_bootstrap, topic_prefix, 1)
    injector = FaultInjector(seed=2, rates={"unknown_commune": 0.1, "malformed": 0.02})
    stats = RunStats()
    async with app.router.lifespan_context(app):
        sink = RecordingHttpSink("http://test", admin, transport=httpx.ASGITransport(app=app))
        await backfill(
            [CitizenReportStream(seed=2)],
            sink,
            START,
            START + timedelta(hours=6),
            faults=injector,
            stats=stats,
        )
        await sink.close()
    generated = sum(stats.generated.values())
    assert generated > 50 and len(sink.sent) == generated
    assert injector.counts["unknown_commune"] > 0 and injector.counts["malformed"] > 0

    # What the gateway must answer, judged here message by message with the same rules.
    # (Not from the fault counts: an event both re-addressed and cut short is one bad-JSON
    # request, not a rejected event, and the overlap depends on the draws.)
    broken = [v for v in sink.sent if not _json(Message.from_raw(v))]
    reasons: Counter[str] = Counter()
    for value in sink.sent:
        if value in broken:
            continue
        try:
            Validator().parse(value)
        except EventRejected as exc:
            reasons[exc.reason] += 1
    assert len(broken) == injector.counts["malformed"]
    assert sink.rejected_requests == len(broken)
    assert reasons == Counter({RejectReason.UNKNOWN_UNIT: reasons[RejectReason.UNKNOWN_UNIT]})
    assert reasons[RejectReason.UNKNOWN_UNIT] > 0
    assert sink.verdicts == Counter(
        accepted=len(sink.sent) - len(broken) - reasons.total(), rejected=reasons.total()
    )

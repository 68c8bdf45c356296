"""CloudEvents as the specification has them: optional attributes and the tracing and
partitioning extensions accepted and kept, and binary content mode accepted beside
structured mode, over HTTP at the gateway (attributes as ``ce-*`` headers) and on Kafka
(attributes as ``ce_*`` headers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cloudevents.core.bindings import http as http_binding
from cloudevents.core.bindings import kafka as kafka_binding
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.validation import Validator
from models.events import (
    HEALTH_ENCOUNTER,
    EventRejected,
    dump_event,
    structured_from_http,
    structured_from_kafka,
)
from models.settings import Settings
from tests import ingest_builders as b
from tests.helpers import app_client, dead_letters, running_consumer, send_raw, wait_for

TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
SCHEMA = "https://ioc.quangnam.gov.vn/schemas/health.encounter/1.json"


def test_optional_attributes_and_extensions_are_accepted_and_checked() -> None:
    doc = {**b.encounter(datetime.now(UTC)), "dataschema": SCHEMA, "traceparent": TRACE}
    doc["partitionkey"] = doc["source"]
    kept = Validator().validate(doc).envelope.kept_attributes()
    assert kept == {"dataschema": SCHEMA, "traceparent": TRACE, "partitionkey": doc["source"]}
    with pytest.raises(EventRejected, match="traceparent"):
        Validator().validate({**doc, "traceparent": "not-a-trace"})
    with pytest.raises(EventRejected, match="schema"):
        Validator().validate({**doc, "colour": "blue"})  # other extensions: still refused


async def stored_attributes(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    """Each stored event's id and the attributes kept beside it, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT event_id::text, dataschema, traceparent, partitionkey"
                " FROM event_key ORDER BY occurred_at"
            )
        )
        return [tuple(r) for r in rows]


def sdk_event(doc: dict[str, Any]) -> CloudEvent:
    attributes = {k: v for k, v in doc.items() if k != "data"}
    attributes["time"] = datetime.fromisoformat(str(doc["time"]))
    return CloudEvent(attributes, doc["data"])


def binary(doc: dict[str, Any]) -> kafka_binding.KafkaMessage:
    """The event in binary content mode on Kafka, made by the official SDK."""
    return kafka_binding.to_binary(sdk_event(doc), JSONFormat())


def binary_http(doc: dict[str, Any]) -> http_binding.HTTPMessage:
    """The event in binary content mode over HTTP, made by the official SDK."""
    return http_binding.to_binary(sdk_event(doc), JSONFormat())


def test_binary_mode_reads_as_the_same_event() -> None:
    doc = {**b.encounter(datetime.now(UTC).replace(microsecond=0)), "traceparent": TRACE}
    message = binary(doc)
    raw = structured_from_kafka(list(message.headers.items()), b"his/key", message.value)
    event = Validator().parse(raw)
    assert str(event.envelope.id) == doc["id"]
    assert event.envelope.time == datetime.fromisoformat(str(doc["time"]))
    assert event.envelope.traceparent == TRACE
    assert event.envelope.partitionkey == "his/key"
    assert event.payload.model_dump(mode="json") == doc["data"]
    structured = dump_event(doc)
    assert structured_from_kafka([("trace", b"x")], None, structured) is structured


@pytest.mark.parametrize("attribute", ["id", "time", "specversion"])
def test_binary_mode_without_an_id_or_time_is_refused_not_made_up(attribute: str) -> None:
    """The SDK would invent a missing id or time: a resent event would be stored twice."""
    doc = b.encounter(datetime.now(UTC).replace(microsecond=0))
    kafka, http = binary(doc), binary_http(doc)
    on_kafka = [(k, v) for k, v in kafka.headers.items() if k != f"ce_{attribute}"]
    with pytest.raises(EventRejected, match=f"no ce_{attribute} header"):
        structured_from_kafka(on_kafka, None, kafka.value)
    over_http = {k: v for k, v in http.headers.items() if k != f"ce-{attribute}"}
    with pytest.raises(EventRejected, match=f"no ce-{attribute} header"):
        structured_from_http(over_http, http.body)


def test_binary_http_reads_as_the_same_event() -> None:
    doc = {**b.encounter(datetime.now(UTC).replace(microsecond=0)), "traceparent": TRACE}
    doc |= {"dataschema": SCHEMA, "partitionkey": "his/key"}
    message = binary_http(doc)
    assert message.headers["ce-traceparent"] == TRACE and b'"id"' not in message.body
    headers = {**message.headers, "x-api-key": "not an attribute", "accept": "*/*"}
    event = Validator().parse(structured_from_http(headers, message.body))
    assert str(event.envelope.id) == doc["id"]
    assert event.envelope.kept_attributes() == {
        "dataschema": SCHEMA,
        "traceparent": TRACE,
        "partitionkey": "his/key",
    }
    assert event.payload.model_dump(mode="json") == doc["data"]


@pytest.mark.integration
async def test_binary_and_structured_events_on_kafka_are_stored_with_their_attributes(
    clean_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    in_binary = {**b.encounter(now - timedelta(minutes=1)), "traceparent": TRACE}
    in_binary["dataschema"] = SCHEMA
    structured = {**b.encounter(now, 1), "dataschema": SCHEMA}
    broken = binary(b.encounter(now, 2))
    broken_headers = [(k, v) for k, v in broken.headers.items() if k != "ce_source"]
    topic = HEALTH_ENCOUNTER.topic(topic_prefix)
    message = binary(in_binary)
    sent = [
        (message.value, list(message.headers.items())),
        (dump_event(structured), []),
        (broken.value, broken_headers),
        (message.value, list(message.headers.items())),  # sent again: stored once
    ]
    await send_raw(kafka_bootstrap, topic, sent, key=str(in_binary["source"]).encode())
    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await wait_for(lambda: seen.consumed >= 4, what="four messages")
    assert (seen.inserted, seen.rejected) == (2, 1)
    async with clean_db.connect() as conn:
        reject = (await conn.execute(text("SELECT reason, detail FROM ingest_reject"))).one()
    kept = await stored_attributes(clean_db)
    assert kept == [
        (in_binary["id"], SCHEMA, TRACE, in_binary["source"]),
        (structured["id"], SCHEMA, None, None),
    ]
    assert reject[0] == "schema" and "binary content mode" in reject[1]

    (letter,) = await dead_letters(kafka_bootstrap, topic_prefix, 1)
    headers = dict(letter.headers)
    assert headers["ce_id"] == broken.headers["ce_id"]  # the event's own attributes travel on
    assert headers["ioc-reject-reason"] == b"schema"


ADMIN = "cloudevents-test-admin-key-0123456789"


@pytest.mark.integration
async def test_a_binary_mode_event_posted_to_the_gateway_is_stored_once_with_its_extensions(
    clean_db: AsyncEngine, database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    doc = {**b.encounter(now - timedelta(minutes=2)), "traceparent": TRACE, "dataschema": SCHEMA}
    doc["partitionkey"] = "his/ward-7"
    message = binary_http(doc)
    missing_id = {k: v for k, v in message.headers.items() if k != "ce-id"}
    bad_trace = {**message.headers, "ce-traceparent": "not-a-trace"}
    unknown_type = {**message.headers, "ce-type": "vn.gov.quangnam.nope"}
    settings = Settings(admin_api_key=ADMIN, topic_prefix=topic_prefix, alert_interval_seconds=0)
    async with app_client(database_url, kafka_bootstrap, settings) as api:

        async def post(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
            response = await api.post(
                "/api/v1/events", content=body, headers={**headers, "X-API-Key": ADMIN}
            )
            return response.status_code, response.json()

        first = await post(message.headers, message.body)
        again = await post(message.headers, message.body)  # a retry: stored once
        refused = [
            await post(missing_id, message.body),
            await post(bad_trace, message.body),
            await post(unknown_type, message.body),
            await post(message.headers, b"{not json"),
        ]
    for status, verdict in (first, again):
        assert status == 200, verdict
        assert verdict["results"] == [{"index": 0, "id": doc["id"], "status": "accepted",
                                       "reason": None, "detail": None}]  # fmt: skip
    reasons = [(s, v["results"][0]["reason"], v["results"][0]["detail"]) for s, v in refused]
    assert [r[:2] for r in reasons] == [(422, "schema"), (422, "schema"), (422, "unknown_type"),
                                        (422, "bad_json")]  # fmt: skip
    assert reasons[0][2] == "binary content mode: no ce-id header"
    assert "traceparent" in reasons[1][2]
    assert reasons[3][2].startswith("binary content mode: the data is not JSON")

    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await wait_for(lambda: seen.consumed >= 2, what="both posts")
    assert (seen.inserted, seen.rejected) == (1, 0)
    kept = await stored_attributes(clean_db)
    assert kept == [(doc["id"], SCHEMA, TRACE, "his/ward-7")]

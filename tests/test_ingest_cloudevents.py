"""CloudEvents as the specification has them: optional attributes and the tracing and
partitioning extensions accepted and kept, and binary content mode on Kafka (attributes
as ``ce_*`` headers) accepted beside structured mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as kafka_binding
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.validation import Validator
from models.events import HEALTH_ENCOUNTER, EventRejected, dump_event, structured_from_kafka
from tests import ingest_builders as b
from tests.helpers import dead_letters, running_consumer, send_raw, wait_for

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


def binary(doc: dict[str, Any]) -> kafka_binding.KafkaMessage:
    """The event in binary content mode, made by the official SDK."""
    attributes = {k: v for k, v in doc.items() if k != "data"}
    attributes["time"] = datetime.fromisoformat(str(doc["time"]))
    event = CloudEvent(attributes, doc["data"])
    return kafka_binding.to_binary(event, JSONFormat())


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


@pytest.mark.integration
async def test_binary_and_structured_events_on_kafka_are_stored_with_their_attributes(
    clean_db: AsyncEngine, kafka_bootstrap: str, topic_prefix: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    in_binary = {**b.encounter(now - timedelta(minutes=1)), "traceparent": TRACE}
    structured = {**b.encounter(now, 1), "dataschema": SCHEMA}
    broken = binary(b.encounter(now, 2))
    broken_headers = [(k, v) for k, v in broken.headers.items() if k != "ce_source"]
    topic = HEALTH_ENCOUNTER.topic(topic_prefix)
    message = binary(in_binary)
    sent = [
        (message.value, list(message.headers.items())),
        (dump_event(structured), []),
        (broken.value, broken_headers),
    ]
    await send_raw(kafka_bootstrap, topic, sent, key=str(in_binary["source"]).encode())
    async with running_consumer(clean_db, kafka_bootstrap, topic_prefix) as seen:
        await wait_for(lambda: seen.consumed >= 3, what="three messages")
    assert (seen.inserted, seen.rejected) == (2, 1)
    async with clean_db.connect() as conn:
        kept = (
            await conn.execute(
                text(
                    "SELECT event_id::text, dataschema, traceparent, partitionkey"
                    " FROM event_key ORDER BY occurred_at"
                )
            )
        ).all()
        reject = (await conn.execute(text("SELECT reason, detail FROM ingest_reject"))).one()
    assert [tuple(r) for r in kept] == [
        (in_binary["id"], None, TRACE, in_binary["source"]),
        (structured["id"], SCHEMA, None, None),
    ]
    assert reject[0] == "schema" and "binary content mode" in reject[1]

    (letter,) = await dead_letters(kafka_bootstrap, topic_prefix, 1)
    headers = dict(letter.headers)
    assert headers["ce_id"] == broken.headers["ce_id"]  # the event's own attributes travel on
    assert headers["ioc-reject-reason"] == b"schema"

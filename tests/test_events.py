"""The event contract: what is accepted and, for each reject reason, what is not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from models.events import (
    HEALTH_ENCOUNTER,
    MAX_EVENT_BYTES,
    EventRejected,
    RejectReason,
    dump_event,
    make_event,
    parse_event,
)
from models.payloads.health import HealthEncounter

PAYLOAD = HealthEncounter(
    encounter_class="outpatient",
    age_band="15-49",
    sex="F",
    insured=True,
    icd_chapter="X",
    wait_minutes=25,
    cost_vnd=150_000,
)


def _doc(**changes: object) -> dict[str, object]:
    doc = make_event(
        HEALTH_ENCOUNTER,
        id=uuid.UUID(int=1),
        source="his/TTYT-502",
        time=datetime(2025, 3, 3, 1, tzinfo=UTC),
        subject="20335",
        payload=PAYLOAD,
    )
    doc.update(changes)
    return doc


def test_a_valid_event_round_trips() -> None:
    event = parse_event(dump_event(_doc()))
    assert event.event_type is HEALTH_ENCOUNTER
    assert event.payload == PAYLOAD
    assert event.envelope.subject == "20335"
    assert HEALTH_ENCOUNTER.topic("ioc") == "ioc.health.encounter"


@pytest.mark.parametrize(
    ("raw", "reason", "detail"),
    [
        (b"{not json", RejectReason.BAD_JSON, ""),
        (b"[1, 2]", RejectReason.BAD_JSON, "JSON object"),
        (orjson.dumps(_doc(time="2025-03-03T01:00:00")), RejectReason.SCHEMA, "time"),
        (orjson.dumps(_doc(subject="49")), RejectReason.SCHEMA, "subject"),
        (orjson.dumps(_doc(type="vn.gov.quangnam.x.y")), RejectReason.UNKNOWN_TYPE, "x.y"),
        (orjson.dumps(_doc(data={"encounter_class": "dental"})), RejectReason.SCHEMA, "data."),
        (b" " * (MAX_EVENT_BYTES + 1), RejectReason.TOO_LARGE, "bytes"),
    ],
)
def test_each_bad_message_is_rejected_with_its_reason(
    raw: bytes, reason: RejectReason, detail: str
) -> None:
    with pytest.raises(EventRejected) as caught:
        parse_event(raw)
    assert caught.value.reason == reason
    assert detail in caught.value.detail

"""Validate posted events with the ingest rules and publish what passes, keyed by source:
a batch of structured events, or one event in binary content mode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from app.gateway.publisher import Publisher
from app.gateway.schemas import BatchVerdict, EventVerdict
from ingest.validation import Validator
from models.events import EventRejected, RejectReason, structured_from_http


def _id_of(doc: object) -> str | None:
    return str(doc["id"]) if isinstance(doc, dict) and "id" in doc else None


def _rejected(index: int, id: str | None, exc: EventRejected) -> EventVerdict:
    return EventVerdict(
        index=index, id=id, status="rejected", reason=str(exc.reason), detail=exc.detail
    )


async def accept_binary(
    headers: Mapping[str, str],
    body: bytes,
    *,
    validator: Validator,
    publisher: Publisher,
    topic_prefix: str,
) -> BatchVerdict:
    """One event in binary content mode, judged and published as a batch of one (its
    attributes and extensions travel on in the structured form ingest reads)."""
    try:
        doc = orjson.loads(structured_from_http(headers, body))
    except EventRejected as exc:
        verdict = _rejected(0, headers.get("ce-id"), exc)
        return BatchVerdict(accepted=0, rejected=1, results=[verdict])
    return await accept([doc], validator=validator, publisher=publisher, topic_prefix=topic_prefix)


async def accept(
    docs: list[Any], *, validator: Validator, publisher: Publisher, topic_prefix: str
) -> BatchVerdict:
    """Judge every event; publish the accepted ones (all or an error: the broker acks them)."""
    results: list[EventVerdict] = []
    outgoing: list[tuple[str, bytes, bytes]] = []
    for index, doc in enumerate(docs):
        try:
            if not isinstance(doc, dict):
                raise EventRejected(RejectReason.BAD_JSON, "a CloudEvent must be a JSON object")
            try:
                raw = orjson.dumps(doc)
            except orjson.JSONEncodeError as exc:  # e.g. nested deeper than orjson's limit
                raise EventRejected(RejectReason.BAD_JSON, str(exc)) from None
            event = validator.parse(raw)  # the same checks, size limit included, as ingest
        except EventRejected as exc:
            results.append(_rejected(index, _id_of(doc), exc))
            continue
        env = event.envelope
        outgoing.append((event.event_type.topic(topic_prefix), env.source.encode(), raw))
        results.append(EventVerdict(index=index, id=str(env.id), status="accepted"))
    if outgoing:
        await publisher.publish(outgoing)
    accepted = len(outgoing)
    return BatchVerdict(accepted=accepted, rejected=len(results) - accepted, results=results)

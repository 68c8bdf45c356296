"""``POST /api/v1/events``: sector systems push CloudEvents over HTTP (ingest role)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Request, Response

from app.auth import Principal, Role, require_role
from app.gateway import service
from app.gateway.schemas import BatchVerdict
from app.kit.errors import InvalidRequest, PayloadTooLarge, TooManyRequests, Unavailable
from app.resources import ResourcesDep
from models.events import is_binary_http

MAX_EVENTS = 1000
"""Events per request; larger batches are refused whole (413) rather than half taken."""

BROKER_RETRY_SECONDS = 10


router = APIRouter(tags=["ingest"])

BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "description": "A batch of structured CloudEvents, or one event in binary content "
        "mode: its attributes as `ce-*` headers (`ce-specversion`, `ce-id`, `ce-source`, "
        "`ce-type`, `ce-time`, `ce-subject`; optionally `ce-dataschema`, `ce-traceparent`, "
        "`ce-tracestate`, `ce-partitionkey`), `Content-Type: application/json`, and the "
        "event's data as the body.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {"type": "object"},
                    "maxItems": MAX_EVENTS,
                    "description": f"A JSON array of CloudEvents 1.0 (structured mode), "
                    f"at most {MAX_EVENTS}.",
                }
            }
        },
    }
}


def _over_quota(wait: float) -> TooManyRequests:
    return TooManyRequests(
        "This key has posted more events than IOC_GATEWAY_EVENTS_PER_SECOND allows; "
        f"resend in {wait:.0f} s.",
        wait,
    )


def _parse(raw: bytes) -> list[Any]:
    try:
        events = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # nesting deeper than orjson allows lands here too
        raise InvalidRequest(f"The body is not readable JSON: {exc}.") from None
    if not isinstance(events, list):
        raise InvalidRequest("The body must be a JSON array of CloudEvents.")
    return events


@router.post(
    "/events",
    openapi_extra=BODY_SCHEMA,
    responses={
        422: {
            "description": "The body is not a JSON array of events; or the one event sent in "
            "binary content mode was rejected (the verdict says why)."
        },
        413: {"description": "Body over IOC_MAX_BODY_BYTES, or more than 1,000 events."},
        429: {"description": "The key's IOC_GATEWAY_EVENTS_PER_SECOND quota; see Retry-After."},
        503: {"description": "The broker is down or not configured; see Retry-After."},
    },
)
async def post_events(
    request: Request,
    response: Response,
    resources: ResourcesDep,
    principal: Annotated[Principal, Depends(require_role(Role.INGEST))],
) -> BatchVerdict:
    """Validate posted CloudEvents and publish the valid ones; a verdict per event.

    A batch (structured mode) is answered 200 with each event's verdict; one event in
    binary content mode is answered 200 when accepted, 422 when rejected."""
    quota = resources.gateway_quota
    if wait := quota.wait_for(principal.key_id):  # before the body: a throttled key costs little
        raise _over_quota(wait)
    # The body is read only here, after the key was checked: an unauthenticated upload
    # costs nothing beyond its headers.
    body = await request.body()
    binary = is_binary_http(request.headers)
    events = [] if binary else _parse(body)
    count = 1 if binary else len(events)
    if count > MAX_EVENTS:
        raise PayloadTooLarge(f"{count} events in one request; send at most {MAX_EVENTS}.")
    if wait := quota.take(principal.key_id, count):
        raise _over_quota(wait)
    publisher = resources.publisher
    if publisher is None:
        raise Unavailable(
            "No broker is configured (IOC_KAFKA_BOOTSTRAP); try again later.", BROKER_RETRY_SECONDS
        )
    broker = resources.broker
    if not await broker.usable():
        raise Unavailable(
            "The broker is down; nothing was taken. Resend the batch later.", BROKER_RETRY_SECONDS
        )
    validator, prefix = resources.validator, resources.settings.topic_prefix
    try:
        if binary:
            verdict = await service.accept_binary(
                request.headers, body, validator=validator, publisher=publisher, topic_prefix=prefix
            )
        else:
            verdict = await service.accept(
                events, validator=validator, publisher=publisher, topic_prefix=prefix
            )
    except (KafkaError, TimeoutError) as exc:
        broker.mark_down()
        raise Unavailable(
            f"The broker did not take the events ({type(exc).__name__}); resend the batch: "
            "events already taken are de-duplicated by source and id.",
            BROKER_RETRY_SECONDS,
        ) from None
    broker.mark_up()
    if binary and verdict.rejected:
        response.status_code = 422
    return verdict

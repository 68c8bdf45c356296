"""``POST /api/v1/events``: sector systems push CloudEvents over HTTP (ingest role)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Body, Depends, FastAPI, Request

from app.auth import Principal, Role, require_role
from app.gateway import service
from app.gateway.publisher import KafkaPublisher, Publisher
from app.gateway.schemas import BatchVerdict
from app.kit.errors import ApiError
from ingest.validation import Validator

MAX_EVENTS = 1000
"""Events per request; larger batches are refused whole (413) rather than half taken."""


class PayloadTooLarge(ApiError):
    status_code = 413


class BrokerUnavailable(ApiError):
    status_code = 503


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    bootstrap: str | None = app.state.kafka_bootstrap
    publisher = KafkaPublisher(bootstrap) if bootstrap else None
    app.state.gateway_publisher = publisher
    app.state.gateway_validator = Validator.from_settings(app.state.settings)
    try:
        yield
    finally:
        if publisher:
            await publisher.close()


router = APIRouter(tags=["ingest"], lifespan=lifespan)


@router.post("/events")
async def post_events(
    request: Request,
    events: Annotated[
        list[Any],
        Body(
            description=f"A JSON array of CloudEvents 1.0 (structured mode), at most {MAX_EVENTS}.",
        ),
    ],
    _: Annotated[Principal, Depends(require_role(Role.INGEST))],
) -> BatchVerdict:
    """Validate a batch of CloudEvents and publish the valid ones; a verdict per event."""
    if len(events) > MAX_EVENTS:
        raise PayloadTooLarge(f"{len(events)} events in one request; send at most {MAX_EVENTS}.")
    publisher: Publisher | None = request.app.state.gateway_publisher
    if publisher is None:
        raise BrokerUnavailable("No broker is configured (IOC_KAFKA_BOOTSTRAP); try again later.")
    try:
        return await service.accept(
            events,
            validator=request.app.state.gateway_validator,
            publisher=publisher,
            topic_prefix=request.app.state.settings.topic_prefix,
        )
    except KafkaError as exc:
        raise BrokerUnavailable(
            f"The broker did not take the events ({type(exc).__name__}); resend the batch: "
            "events already taken are de-duplicated by id."
        ) from None

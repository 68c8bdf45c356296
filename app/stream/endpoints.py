"""The live stream: Server-Sent Events the wall subscribes to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from app.auth import CurrentPrincipal, Role
from app.auth.service import principal_for_key
from app.indicators.service import get_indicator
from app.kit.errors import NotFound
from app.stream.schemas import Subscription
from app.stream.service import Hub
from app.units import repository as units_repo

router = APIRouter(tags=["stream"])
KEEPALIVE_SECONDS = 15.0

EXAMPLE = (
    'id: 18c2f7a1b3e:42\nevent: indicator\ndata: {"indicator": "health.encounters", '
    '"level": "district", "bucket": "day", "unit_code": "503", "value": 412.0, …}\n\n'
)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"example": EXAMPLE}},
                     "description": "indicator, alert, source and reset events."}},
)  # fmt: skip
async def stream(
    request: Request,
    principal: CurrentPrincipal,
    indicator: Annotated[
        list[str] | None,
        Query(description="Only these indicators (repeat the parameter).", max_length=50),
    ] = None,
    unit: Annotated[
        list[str] | None, Query(description="Only these units (repeat).", max_length=300)
    ] = None,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=64, description="Resume after.")
    ] = None,
    api_key: Annotated[
        str | None,
        Query(
            max_length=200,
            description="For browsers' EventSource, which cannot send headers. Prefer the "
            "X-API-Key header elsewhere: a URL may end up in logs.",
        ),
    ] = None,
) -> StreamingResponse:
    """Changed indicator values (day buckets, every level), alerts and source status, live.

    The public role receives open indicators only; alerts and source status need operator.
    """
    if api_key and not principal.authenticated:
        state = request.app.state
        principal = await principal_for_key(state.engine, api_key, state.settings.admin_api_key)
    operator = principal.can(Role.OPERATOR)
    for code in indicator or []:
        get_indicator(code, principal)
    if unit:
        async with request.app.state.engine.connect() as conn:
            known = {u.code for u in await units_repo.all_units(conn, "2020")}
        unknown = sorted(set(unit) - known)
        if unknown:
            raise NotFound(f"Unknown units {unknown}; GET /api/v1/units lists the codes.")
    hub: Hub = request.app.state.hub
    sub = Subscription(
        indicators=frozenset(indicator) if indicator else None,
        units=frozenset(unit) if unit else None,
        operator=operator,
    )

    async def events() -> AsyncIterator[bytes]:
        # Subscribed here, not before the response: a client gone before the body starts
        # never runs this generator, so its queue would never be unsubscribed.
        queue, missed = hub.subscribe(sub, last_event_id)
        try:
            yield b"retry: 3000\n\n"
            for event in missed:
                yield event.encode()
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                yield event.encode()
        finally:
            hub.unsubscribe(queue)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

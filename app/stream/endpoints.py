"""The live stream: Server-Sent Events the wall subscribes to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.auth import CurrentPrincipal, Role
from app.auth.service import check_key
from app.indicators.service import get_indicator
from app.kit.errors import NotFound
from app.resources import ResourcesDep
from app.stream.schemas import StreamEvent, Subscription
from app.stream.service import reset
from app.units import repository as units_repo
from app.units.service import HierarchyName, require_hierarchy
from models.units import HIERARCHY_2020, HIERARCHY_NAMES

router = APIRouter(tags=["stream"])
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 3000
SEND_TIMEOUT_SECONDS = 30.0
"""A client that takes no bytes for this long is dropped (its socket is stuck)."""

EXAMPLE = (
    'id: 4242\nevent: indicator\ndata: {"indicator": "health.encounters", '
    '"level": "district", "bucket": "day", "unit_code": "503", "value": 412.0, …}\n\n'
)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {"example": EXAMPLE}},
                     "description": "indicator, alert, source and reset events."}},
)  # fmt: skip
async def stream(
    request: Request,
    resources: ResourcesDep,
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
    hierarchy: Annotated[
        HierarchyName | None,
        Query(
            description="The unit tree of `unit` and of the values sent: 2025-01-01 (alias "
            "2020, the default) or 2025-07-01 (alias 2025)."
        ),
    ] = None,
) -> EventSourceResponse:
    """Changed indicator values (day buckets, every level), alerts and source status, live.

    The public role receives open indicators only; alerts and source status need operator.
    Values come in the asked hierarchy's units (each says its ``hierarchy``).
    """
    if api_key and not principal.authenticated:
        principal = await check_key(resources, request, api_key)
    operator = principal.can(Role.WALL)
    for code in indicator or []:
        get_indicator(code, principal)
    tree = HIERARCHY_NAMES.get(hierarchy, hierarchy) if hierarchy else HIERARCHY_2020
    if unit or hierarchy:
        async with resources.engine.connect() as conn:
            await require_hierarchy(conn, tree)
            known = {u.code for u in await units_repo.all_units(conn, tree)}
        unknown = sorted(set(unit or ()) - known)
        if unknown:
            raise NotFound(
                f"Unknown units {unknown} in hierarchy {tree}; "
                f"GET /api/v1/units?hierarchy={tree} lists the codes."
            )
    hub = resources.hub
    sub = Subscription(
        indicators=frozenset(indicator) if indicator else None,
        units=frozenset(unit) if unit else None,
        operator=operator,
        hierarchy=tree,
    )

    # Where the stream stands as the headers go out: the body catches up from here.
    since = hub.position

    async def events() -> AsyncIterator[ServerSentEvent]:
        # Subscribed here, not before the response: a client gone before the body starts
        # never runs this generator, so its mailbox would never be unsubscribed.
        try:
            mailbox, missed = await hub.subscribe(sub, last_event_id, since)
        except Exception:  # the database is away: the client reloads once it is back
            yield _sse(reset("could not read missed events; reload state"), retry=RETRY_MS)
            return
        try:
            yield ServerSentEvent(comment="live", retry=RETRY_MS)
            sent = 0
            for event in missed:
                sent = event.id or sent
                yield _sse(event)
            while True:
                for event in await mailbox.take():
                    if event.id is not None and event.id <= sent:
                        continue  # already sent among the missed ones
                    sent = event.id or sent
                    yield _sse(event)
        finally:
            hub.unsubscribe(mailbox)

    # sse-starlette frames the events, pings idle connections and ends every open stream
    # when the server shuts down, so a connected wall never holds a shutdown.
    return EventSourceResponse(
        events(),
        ping=KEEPALIVE_SECONDS,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        send_timeout=SEND_TIMEOUT_SECONDS,
    )


def _sse(event: StreamEvent, retry: int | None = None) -> ServerSentEvent:
    return ServerSentEvent(
        data=orjson.dumps(event.data).decode(),
        event=event.kind,
        id=str(event.id) if event.id is not None else None,
        retry=retry,
    )

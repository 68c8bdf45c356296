"""A pure ASGI guard in front of every route: a NUL character in the path or the query
string is a 422. PostgreSQL text cannot hold one, so it would otherwise surface as a
database error (a 500) on whichever route passed it on.

(Body sizes are capped by FastAPI's own ``max_body_size``, set in ``app.main``.)
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


def has_nul(scope: Scope) -> bool:
    """The decoded path or query string holds a NUL character."""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(query)


class RequestGuard:
    """Refuses NUL characters in the URL (422) before any route sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and has_nul(scope):
            detail = "The URL holds a NUL character (%00), which no field takes."
            await JSONResponse({"detail": detail}, status_code=422)(scope, receive, send)
            return
        await self.app(scope, receive, send)

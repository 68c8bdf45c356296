"""Security headers on every response, and the Content-Security-Policy of HTML pages.

Every response says ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``
(a wall URL may carry ``?api_key=``) and may not be framed (``X-Frame-Options: DENY`` and
CSP ``frame-ancestors 'none'``). HTML gets a policy that allows scripts, styles and
connections from the API's own origin only — no inline script, no ``eval``, no other host.
A page still shipping inline ``<script>`` / ``<style>`` blocks keeps working through the
blocks' SHA-256 hashes (:func:`page_policy`), which admit those exact blocks and nothing
injected; moving them to files served by the app makes the policy hash-free. A route that
sets its own ``Content-Security-Policy`` keeps it.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"

_BLOCK = re.compile(r"<(script|style)(?![^>]*\bsrc=)[^>]*>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page_policy(html: str = "") -> str:
    """The CSP of an HTML page: own origin only, plus the hashes of any inline blocks."""
    scripts: list[str] = []
    styles: list[str] = []
    for kind, body in _BLOCK.findall(html):
        (scripts if kind.lower() == "script" else styles).append(_digest(body))
    return PAGE_POLICY.format(
        scripts="".join(" " + h for h in scripts), styles="".join(" " + h for h in styles)
    )


class SecurityHeaders:
    """Pure ASGI: adds the headers above to every HTTP response (HTML bodies are small and
    whole, so a page's hashes are computed from the body it sends)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body: list[bytes] = []

        async def secured_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                html = headers.get("content-type", "").startswith("text/html")
                if "content-security-policy" in headers or not html:
                    headers.setdefault("Content-Security-Policy", API_POLICY)
                    await send(message)
                    return
                held = message  # the page's hashes need its body
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(body)
            MutableHeaders(scope=held)["Content-Security-Policy"] = page_policy(
                page.decode("utf-8", "replace")
            )
            await send(held)
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, secured_send)

"""Kept answers sent again before routing: the public's repeated questions cost a snapshot
read and a dictionary look-up, not FastAPI's parameter and dependency solving.

Why: with the snapshot read shared (:class:`app.kit.snapshots.Snapshots`), solving a
route's dependencies and parameters (seventeen dependency calls for a ranking) was most of
what a kept answer cost, and fifty wall screens and portal users asking the year's figures
queue behind that CPU on two cores.

Why it answers the same as the route: only requests without a key take this way, so the
asker is the public, as the route would find. A response is kept here only after the route
answered it (so the same path and query were valid and open to the public) and only for an
answer the route kept (:mod:`app.kit.answers`: settled, in a database snapshot's epoch). It
is sent again only while that answer holds (no commit since that may have changed it), else
the request goes to the route. A database that cannot be read, or anything else unusual,
also leaves the request to the route, whose errors (a 503 for an outage) stay the API's own.

It sits inside the metrics, security-header and guard middleware, so a request answered here
is counted under its route, carries the same headers and has passed the same checks.
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.kit.answers import ANSWER_KEY, AnswerCache, Sent, question_of
from app.kit.snapshots import Snapshots

log = structlog.get_logger("api")

PUBLIC = "public"
"""The role of a request without a key (``app.auth``)."""

_KEY_HEADERS = (b"x-api-key", b"authorization")


def anonymous(scope: Scope) -> bool:
    """The request carries no key at all (an ``Authorization`` header of any scheme counts
    as one here: the route decides what it means)."""
    return not any(name in _KEY_HEADERS for name, _ in scope.get("headers", ()))


class KeptResponses:
    """Sends a kept answer's response again, for requests without a key, without routing."""

    def __init__(self, app: ASGIApp, answers: AnswerCache, snapshots: Snapshots) -> None:
        self.app = app
        self._answers = answers
        self._snapshots = snapshots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answers = self._answers
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not answers.enabled
            or not anonymous(scope)
        ):
            await self.app(scope, receive, send)
            return
        question = question_of(scope, PUBLIC)
        if answers.asked(question) and await self._resend(answers, question, scope, send):
            return
        await self.app(scope, receive, self._keeping(answers, scope, send))

    async def _resend(self, answers: AnswerCache, question: Any, scope: Scope, send: Send) -> bool:
        try:
            seen = await self._snapshots.now()
        except Exception as exc:  # the route answers, with its own error
            log.debug("snapshot not read; the route answers", error=type(exc).__name__)
            return False
        sent = answers.sent(question, seen)
        if sent is None:
            return False
        scope["route"] = sent.route  # counted under its route by the metrics middleware
        await send({"type": "http.response.start", "status": 200, "headers": sent.headers})
        await send({"type": "http.response.body", "body": sent.body})
        return True

    @staticmethod
    def _keeping(answers: AnswerCache, scope: Scope, send: Send) -> Send:
        """``send``, noting a 200 whose answer the route kept and whose body is sent whole
        in one message, to send again."""
        headers: list[tuple[bytes, bytes]] | None = None

        async def keeping(message: Message) -> None:
            nonlocal headers
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    headers = list(message.get("headers", ()))
            elif message["type"] == "http.response.body" and headers is not None:
                key = scope.get("state", {}).get(ANSWER_KEY)
                body = message.get("body", b"")
                if key is not None and not message.get("more_body") and isinstance(body, bytes):
                    answers.keep_sent(key, Sent(headers, body, scope.get("route")))
                headers = None
            await send(message)

        return keeping

"""Answers to settled questions, kept per database snapshot.

Why: a control room's screens, its analysts and the public portal ask the same questions
again and again (a district's months, a year's ranking, an open-data export), and each
answer sums a year of roll-ups. On two cores, fifty clients asking them afresh queue behind
each other; an answer already computed costs a dictionary look-up.

Why it stays exact: an answer is computed in one ``REPEATABLE READ`` transaction
(:mod:`app.kit.snapshots`), so every statement of it sees one snapshot of the database, and
it is kept under that snapshot (``pg_current_snapshot()``) beside the question. Two
statements with the same snapshot see the same rows, in a transaction or not; any commit
after it (a batch, a late event, a correction, from any writer or replica) gives later
requests another snapshot, so a kept answer is never served after the data changed. A
request reads the snapshot first, with one statement outside any transaction, and an answer
kept under it is served with no transaction at all (that BEGIN and COMMIT were half a kept
answer's CPU). Nothing has to be told to forget anything, and no change notice has to
arrive in time.

Only settled questions are kept: every period asked is over at the moment the request is
answered as of, so no part of the answer (a partial period, slots owed so far, deadlines not
yet past) moves with the clock alone. The asker's role is part of the key (the public gets
small counts withheld). A question asked again while its answer is being computed (fifty
screens refreshing at once) waits for that computation instead of starting its own: with
the same snapshot, it would compute the same bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from cachetools import LRUCache
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Scope

from app.kit.snapshots import Reads, snapshot_of

T = TypeVar("T")


Question = tuple[str, tuple[tuple[str, str], ...], str]
"""A request as far as its answer goes: its path, its query (sorted), the asker's role."""

ANSWER_KEY = "answer_key"
"""Where a request's scope state holds the key its answer was kept under
(:mod:`app.kit.kept_responses` sends that answer again without routing the request)."""


def question_of(scope: Scope, role: str) -> Question:
    query = tuple(sorted(QueryParams(scope.get("query_string", b"")).multi_items()))
    return scope["path"], query, role


def _key(request: Request, role: str, snapshot: str) -> tuple[Question, str]:
    key = question_of(request.scope, role), snapshot
    request.scope.setdefault("state", {})[ANSWER_KEY] = key
    return key


@dataclass(frozen=True, slots=True)
class Sent:
    """A kept answer as it was sent, for :mod:`app.kit.kept_responses`: the same body
    object as the kept answer (not a copy), its headers, and the route that answered."""

    snapshot: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    route: Any


def json_body(model: BaseModel) -> bytes:
    """The bytes FastAPI sends for ``model`` returned from a route (its response model,
    dumped for JSON by alias, rendered by ``JSONResponse``): a kept answer is byte for byte
    the one computed.

    Written by pydantic's serializer in one call (a year of commune values dumped to Python
    objects and then encoded by ``json`` took four times as long). The two write the same
    bytes but for a float under 1e-4 (``0.00001`` against ``1e-05``, ``1e-7`` against
    ``1e-07``): an answer holding such a number, or text that looks like one, is rendered
    the slow way."""
    body = type(model).__pydantic_serializer__.to_json(model, by_alias=True)
    if not _may_differ(body):
        return body
    return bytes(JSONResponse(model.model_dump(mode="json", by_alias=True)).body)


def _may_differ(body: bytes) -> bool:
    """Does pydantic's JSON hold a float below 1e-4 (``0.0000…`` or ``…e-…``), where
    ``json.dumps`` would write another notation? Searched with ``bytes.find``: a regular
    expression took longer over a year of values than the dump itself."""
    if b"0.0000" in body:
        return True
    at = body.find(b"e-")
    while at != -1:
        if body[at - 1 : at].isdigit():
            return True
        at = body.find(b"e-", at + 2)
    return False


class AnswerCache:
    """At most ``max_bytes`` of answers, the least recently asked dropped first."""

    def __init__(self, max_bytes: int, registry: CollectorRegistry | None = None) -> None:
        self._kept: LRUCache[Hashable, tuple[int, Any]] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=lambda entry: max(entry[0], 1)
        )
        self.enabled = max_bytes > 0
        self._sent: LRUCache[Question, Sent] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=lambda sent: max(len(sent.body), 1)
        )
        self._running: dict[Hashable, asyncio.Future[Any]] = {}
        self._served = Counter(
            "ioc_api_answers",
            "Answers to settled questions: served from memory (kept) or computed (computed).",
            ["result"],
            registry=registry,
        )

    def sent(self, question: Question, snapshot: str) -> Sent | None:
        """The response last sent for ``question``, if its answer was kept under
        ``snapshot``; counted as a kept answer served."""
        sent = self._sent.get(question)
        if sent is None or sent.snapshot != snapshot:
            return None
        self._served.labels("kept").inc()
        return sent

    def asked(self, question: Question) -> bool:
        """A response to ``question`` was kept: worth reading the snapshot to find out
        whether it still holds (no other request pays that read)."""
        return question in self._sent

    def keep_sent(self, key: tuple[Question, str], sent: Sent) -> None:
        """Keep the response sent with the answer kept under ``key`` (whose body ``sent``
        holds); nothing when that answer is not kept (too big, or its computation failed)."""
        if key in self._kept:
            self._sent[key[0]] = sent

    async def key(
        self, conn: AsyncConnection, request: Request, role: str, *, settled: bool
    ) -> Hashable | None:
        """The request's key in the cache, or ``None`` when its answer is not to be kept
        (not settled, or the cache is off). ``conn`` is the request's transaction."""
        if not (settled and self.enabled):
            return None
        return _key(request, role, await snapshot_of(conn))

    async def kept(self, reads: Reads, request: Request, role: str, *, settled: bool) -> Any:
        """The answer kept for the request under the database's snapshot now, else None;
        read outside any transaction: an answer computed under the same snapshot saw the
        same rows, whichever transaction it ran in."""
        if not (settled and self.enabled):
            return None
        entry = self._kept.get(_key(request, role, await reads.snapshot()))
        if entry is None:
            return None
        self._served.labels("kept").inc()
        return entry[1]

    async def served(
        self,
        reads: Reads,
        request: Request,
        role: str,
        *,
        settled: bool,
        compute: Callable[[AsyncConnection], Awaitable[T]],
        size: Callable[[T], int],
    ) -> T:
        """The answer to a read request: :meth:`kept`, else computed by ``compute`` in one
        ``REPEATABLE READ`` transaction (committed before it is returned) and kept under
        that transaction's snapshot when the question is settled."""
        kept = await self.kept(reads, request, role, settled=settled)
        if kept is not None:
            return kept  # type: ignore[no-any-return]
        async with reads.transaction() as conn:
            key = await self.key(conn, request, role, settled=settled)
            return await self.answer(key, lambda: compute(conn), size)

    async def answer(
        self, key: Hashable | None, compute: Callable[[], Awaitable[T]], size: Callable[[T], int]
    ) -> T:
        """The kept answer for ``key``; else the one being computed for it; else
        ``compute()``'s, kept when it is at most the cache's size (``size(answer)`` bytes).
        ``key`` None: computed, never kept. A computation that fails is not kept, and a
        request that waited for it computes its own."""
        if key is None:
            return await compute()
        entry = self._kept.get(key)
        if entry is not None:
            self._served.labels("kept").inc()
            return entry[1]  # type: ignore[no-any-return]
        running = self._running.get(key)
        if running is not None:
            # When its request failed or went away, this one computes afresh.
            with contextlib.suppress(Exception):
                answer: T = await asyncio.shield(running)
                self._served.labels("kept").inc()
                return answer
        self._served.labels("computed").inc()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            answer = await compute()
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("gone"))
            future.exception()  # retrieved: nobody waiting is not an error
            raise
        finally:
            if self._running.get(key) is future:
                del self._running[key]
        future.set_result(answer)
        if (n := size(answer)) <= self._kept.maxsize:
            self._kept[key] = (n, answer)
        return answer

"""Answers to settled questions, kept until a commit may have changed them.

Why: a control room's screens, its analysts and the public portal ask the same questions
again and again (a district's months, a year's ranking, an open-data export), and each
answer sums a year of roll-ups. On two cores, fifty clients asking them afresh queue behind
each other; an answer already computed costs a dictionary look-up.

Why it stays exact: an answer is computed in one ``REPEATABLE READ`` transaction
(:mod:`app.kit.snapshots`), so every statement of it sees one snapshot of the database, and
it is kept with the epoch of the snapshot its request read first (every commit made before
the request asked, and perhaps a few more). A request reads the database's snapshot first,
with one statement outside any transaction: an answer kept in that snapshot's epoch is
served with no transaction at all (that BEGIN and COMMIT were half a kept answer's CPU).
In a later epoch it is served only if the commits since its own may not have changed
anything it reads: each commit logs the earliest moment its rows count at
(``models.tables.changes``, read by ``app.kit.changes``), and an answer reads nothing at or
after :data:`MARGIN` past the end of the last period it asks about (completeness looks a day
past it; a week slot a week before). A commit that logged nothing counts as having changed
everything. Nothing has to be told to forget anything, and no change notice has to arrive
in time: a request never gets an answer older than a commit made before it asked that could
have changed it.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cachetools import LRUCache
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Scope

from app.kit.changes import Seen
from app.kit.snapshots import Reads, Snapshots

T = TypeVar("T")


Question = tuple[str, tuple[tuple[str, str], ...], str]
"""A request as far as its answer goes: its path, its query (sorted), the asker's role."""

Key = tuple[Question, int]
"""A question in an epoch (``app.kit.changes.Seen``)."""

ANSWER_KEY = "answer_key"
"""Where a request's scope state holds the key its answer was kept under
(:mod:`app.kit.kept_responses` sends that answer again without routing the request)."""
_SEEN = "answer_seen"
"""Where a request's scope state holds the snapshot it read first."""

MARGIN = timedelta(days=2)
"""Past the end of the last period asked, from where on a commit's rows cannot change the
answer. The farthest an answer reads is a day past that end (completeness reads the day
masks to it, counting only slots due by the end); a second day is slack.
``tests/test_answers_across_commits.py`` checks every indicator against a day of every
stream stored from here on."""


def question_of(scope: Scope, role: str) -> Question:
    query = tuple(sorted(QueryParams(scope.get("query_string", b"")).multi_items()))
    return scope["path"], query, role


@dataclass(frozen=True, slots=True)
class Sent:
    """A kept answer as it was sent, for :mod:`app.kit.kept_responses`: the same body
    object as the kept answer (not a copy), its headers, and the route that answered."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    route: Any


@dataclass(slots=True)
class Kept:
    """An answer, its size, the epoch it was computed in and the latest it is known to hold
    in, the moment (epoch seconds) from which on a change cannot alter it, and, once sent,
    its response."""

    size: int
    answer: Any
    born: int
    epoch: int
    horizon: float
    sent: Sent | None = None


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
    """At most ``max_bytes`` of answers, the least recently asked dropped first; each kept
    while the commits since it was computed cannot have changed it (``snapshots``)."""

    def __init__(
        self, max_bytes: int, snapshots: Snapshots, registry: CollectorRegistry | None = None
    ) -> None:
        self._kept: LRUCache[Question, Kept] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=lambda entry: max(entry.size, 1)
        )
        self.enabled = max_bytes > 0
        self._snapshots = snapshots
        self._running: dict[Key, asyncio.Future[Any]] = {}
        self._served = Counter(
            "ioc_api_answers",
            "Answers to settled questions: served from memory (kept) or computed (computed).",
            ["result"],
            registry=registry,
        )

    def _holding(self, question: Question, epoch: int) -> Kept | None:
        """The answer kept for ``question``, if it holds in ``epoch``: kept in that epoch or
        a later one (an answer computed since holds every commit made before), or in an
        earlier one with no change since before its horizon (it is then known to hold in
        this one)."""
        entry = self._kept.get(question)
        if entry is None or entry.epoch >= epoch:
            return entry
        if self._snapshots.epochs.since(entry.epoch, epoch) < entry.horizon:
            return None
        entry.epoch = epoch
        return entry

    def sent(self, question: Question, seen: Seen) -> Sent | None:
        """The response last sent for ``question``, if its answer holds in ``seen``;
        counted as a kept answer served."""
        entry = self._holding(question, seen.epoch)
        if entry is None or entry.sent is None:
            return None
        self._served.labels("kept").inc()
        return entry.sent

    def asked(self, question: Question) -> bool:
        """A response to ``question`` was kept: worth reading the snapshot to find out
        whether it still holds (no other request pays that read)."""
        entry = self._kept.get(question)
        return entry is not None and entry.sent is not None

    def keep_sent(self, key: Key, sent: Sent) -> None:
        """Keep the response sent with the answer computed under ``key``; nothing when that
        answer is not the one kept (too big, failed, replaced by a later one)."""
        entry = self._kept.get(key[0])
        if entry is not None and entry.born == key[1]:
            entry.sent = sent

    async def kept(self, reads: Reads, request: Request, role: str, *, settled: bool) -> Any:
        """The answer kept for the request that holds in the database's snapshot now, else
        None; read outside any transaction."""
        if not (settled and self.enabled):
            return None
        seen = await reads.snapshot()
        request.scope.setdefault("state", {})[_SEEN] = seen
        entry = self._holding(question_of(request.scope, role), seen.epoch)
        if entry is None:
            return None
        self._served.labels("kept").inc()
        return entry.answer

    def key(self, request: Request, role: str, *, settled: bool) -> Key | None:
        """The request's key in the cache, after :meth:`kept` found nothing: its question in
        the epoch it read; ``None`` when its answer is not to be kept (not settled, or the
        cache is off)."""
        seen = request.scope.get("state", {}).get(_SEEN)
        if not (settled and self.enabled) or seen is None:
            return None
        key = question_of(request.scope, role), seen.epoch
        request.scope["state"][ANSWER_KEY] = key
        return key

    async def served(
        self,
        reads: Reads,
        request: Request,
        role: str,
        *,
        settled: bool,
        end: datetime,
        compute: Callable[[AsyncConnection], Awaitable[T]],
        size: Callable[[T], int],
    ) -> T:
        """The answer to a read request: :meth:`kept`, else computed by ``compute`` in one
        ``REPEATABLE READ`` transaction (committed before it is returned) and kept when the
        question is settled. ``end``: the end of the last period asked."""
        kept = await self.kept(reads, request, role, settled=settled)
        if kept is not None:
            return kept  # type: ignore[no-any-return]
        async with reads.transaction() as conn:
            key = self.key(request, role, settled=settled)
            return await self.answer(key, end, lambda: compute(conn), size)

    async def answer(
        self,
        key: Key | None,
        end: datetime,
        compute: Callable[[], Awaitable[T]],
        size: Callable[[T], int],
    ) -> T:
        """The answer kept for ``key`` (its question, holding in its epoch); else the one
        being computed for it (same question, same epoch); else ``compute()``'s, kept when it
        is at most the cache's size (``size(answer)`` bytes). ``key`` None: computed, never
        kept. A computation that fails is not kept, and a request that waited for it
        computes its own. ``end``: the end of the last period asked."""
        if key is None:
            return await compute()
        entry = self._holding(*key)
        if entry is not None:
            self._served.labels("kept").inc()
            return entry.answer  # type: ignore[no-any-return]
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
            question, epoch = key
            entry = self._kept.get(question)
            if entry is None or entry.epoch <= epoch:  # an answer of a later epoch stays
                self._kept[question] = Kept(n, answer, epoch, epoch, (end + MARGIN).timestamp())
        return answer

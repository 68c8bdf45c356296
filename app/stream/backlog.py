"""The evaluator's backlog: the changes each indicator has yet to be evaluated for.

A change notice used to be evaluated whole — every indicator it moves, every level, both
hierarchies (some 50 questions, seconds on a busy machine) — before the next one was
looked at; under a live feed (a batch a second) each notice then waited for the whole of
the one before, and commit-to-wall latency was one to two such rounds. Here a notice is
split per indicator: an indicator's pending changes merge into one (the newest values are
what is published, so a burst costs one evaluation), lanes take the indicator waiting
longest, and no indicator is evaluated by two lanes at once (its values are then published
in the order of its changes). A change waits at most for the indicators ahead of it.
"""

from __future__ import annotations

import asyncio

from models.notify import ChangeNotice


def merge(notices: list[ChangeNotice]) -> ChangeNotice:
    """One notice covering all of ``notices`` (no commune list: every commune)."""
    communes: set[str] = set()
    every = any(not n.communes for n in notices)
    for n in notices:
        communes.update(n.communes)
    return ChangeNotice(
        rollups=sorted({r for n in notices for r in n.rollups}),
        communes=[] if every else sorted(communes),
        first_bucket=min(n.first_bucket for n in notices),
        last_bucket=max(n.last_bucket for n in notices),
        committed_at=max(n.committed_at for n in notices),
    )


class Backlog:
    """Pending changes per indicator code, the longest waiting first."""

    def __init__(self) -> None:
        self._pending: dict[str, ChangeNotice] = {}
        self._busy: set[str] = set()
        self._changed = asyncio.Event()

    def add(self, code: str, notice: ChangeNotice) -> None:
        """Record a change of ``code``'s inputs (merged into any still waiting: it keeps
        its place in the queue)."""
        waiting = self._pending.get(code)
        self._pending[code] = notice if waiting is None else merge([waiting, notice])
        self._changed.set()

    async def take(self) -> tuple[str, ChangeNotice]:
        """The indicator waiting longest that no lane is evaluating, and its changes;
        call :meth:`done` once evaluated."""
        while True:
            for code in self._pending:
                if code not in self._busy:
                    self._busy.add(code)
                    return code, self._pending.pop(code)
            self._changed.clear()
            await self._changed.wait()

    def done(self, code: str) -> None:
        self._busy.discard(code)
        self._changed.set()  # changes that came in meanwhile can be taken now

    def __len__(self) -> int:
        return len(self._pending)

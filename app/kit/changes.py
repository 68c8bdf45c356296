"""What the commits between two snapshots may have changed, read from the change log.

Why: a kept answer to a settled question (``app.kit.answers``) used to last only until the
next commit, and under a live feed every batch is one: fifty screens asking for last year's
figures then waited for answers computed afresh, once a second. A batch of today's events
cannot change last year; the change log (``models.tables.changes``) says, per committed
transaction, the earliest moment its rows count at.

Between two snapshots read one after the other, the commits made in between are the
transaction ids visible in the second and not in the first (those still running at the
first, and those begun since). Each needs its change-log row; one without (an operator's
change, a partition made, retention, autovacuum's statistics) means "anything may have
changed". The earliest moment over them is what :class:`Epochs` records for the step.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

import structlog

log = structlog.get_logger("api")

ANYTHING = -math.inf
"""The earliest changed moment when it is not known: everything may have changed."""
NOTHING = math.inf
"""The earliest changed moment of no change at all."""

MAX_STEP = 20_000
"""At most this many transaction ids between two reads are looked up; beyond, the step
counts as :data:`ANYTHING` (a backfill between two questions: answering afresh is cheap
beside it)."""

SINCE = """
WITH began AS (
    SELECT x::text::bigint AS x FROM pg_snapshot_xip(%(before)s::pg_snapshot) AS x
    UNION ALL
    SELECT generate_series(
        pg_snapshot_xmax(%(before)s::pg_snapshot)::text::bigint,
        pg_snapshot_xmax(%(after)s::pg_snapshot)::text::bigint - 1)
), committed AS (
    SELECT x FROM began
    WHERE pg_visible_in_snapshot(x::text::xid8, %(after)s::pg_snapshot)
      AND NOT pg_visible_in_snapshot(x::text::xid8, %(before)s::pg_snapshot)
      AND pg_xact_status(x::text::xid8) = 'committed'
)
SELECT count(*), count(c.xid), extract(epoch FROM min(c.since))::float8
FROM committed LEFT JOIN change_log c ON c.xid = committed.x
"""
"""Between snapshots ``before`` and ``after``: the commits, those of them logged, and the
earliest moment (epoch seconds) they may have changed."""


def _xmax(snapshot: str) -> int:
    return int(snapshot.split(":", 2)[1])


async def changed_since(driver: Any, before: str, after: str) -> float:
    """The earliest moment (epoch seconds) the commits visible in ``after`` and not in
    ``before`` may have changed: :data:`NOTHING` for none, :data:`ANYTHING` when one of them
    is not logged, too many are, or the log cannot be read."""
    if _xmax(after) < _xmax(before) or _xmax(after) - _xmax(before) > MAX_STEP:
        return ANYTHING
    try:
        cur = await driver.execute(SINCE, {"before": before, "after": after})
        commits, logged, since = await cur.fetchone()
    except Exception as exc:  # a schema without the log: nothing is kept across commits
        if getattr(exc, "sqlstate", None) is None:
            raise
        log.warning("change log not read; kept answers last until the next commit",
                    error=repr(exc))  # fmt: skip
        return ANYTHING
    if commits == 0:
        return NOTHING
    if logged < commits or since is None:
        return ANYTHING
    return float(since)


@dataclass(frozen=True, slots=True)
class Seen:
    """A snapshot read (:class:`app.kit.snapshots.Snapshots`) and its epoch: the number of
    changes of snapshot the process has read so far."""

    snapshot: str
    epoch: int


class Epochs:
    """The earliest changed moment of each of the last :data:`KEPT` steps from one snapshot
    read to the next different one."""

    KEPT = 4096

    def __init__(self) -> None:
        self.current = 0
        self._steps: deque[float] = deque(maxlen=self.KEPT)
        """``_steps[-1]``: the step into epoch ``current``; ``[-2]`` into ``current - 1``…"""

    def step(self, since: float) -> int:
        """A new snapshot, whose commits since the last may have changed moments from
        ``since`` on; its epoch."""
        self._steps.append(since)
        self.current += 1
        return self.current

    def since(self, epoch: int, until: int) -> float:
        """The earliest moment changed by the commits seen from ``epoch`` to ``until``
        (:data:`ANYTHING` when those steps are no longer recorded)."""
        if until <= epoch:
            return NOTHING
        back = self.current - epoch
        if back > len(self._steps) or until > self.current:
            return ANYTHING
        newest = self.current - until
        steps = islice(reversed(self._steps), newest, back)
        return min(steps, default=NOTHING)

"""What the alert rules may judge: only data that has stopped arriving, and only periods the
stored data covers.

- *Settled*: while a stream is catching up (a backfill, a worker back from an outage) the
  hours it has not reached would read as empty; rules look only up to where the slowest
  such stream has got. A stream is catching up when one of its sources written into
  within :data:`SETTLE_AFTER` has its newest event over :data:`BEHIND` old (the slowest
  of them is its front: a type's Kafka partitions advance apart), and it is dense
  enough that hours without its events mean it has not got there yet (on average
  :data:`~models.cadence.MIN_EVENTS_PER_SLOT` events an hour): a sparse type (a school's
  weekly report) or a late event does not hold the judging back.
- *Covered*: a window (or a baseline window, or an anomaly's bucket) that begins before
  the first stored event of the types it reads was never observed whole, so it is not
  judged: the data starts partway, and the part before it is neither low nor usual.
  Completeness counts a source's reporting slots from its stream's first event on; a
  stream with no event at all is judged from the first event of any stream (a feed down
  since the start is an outage), except while the deployment is still catching up; and
  while it catches up, a source with no stored event owes nothing either: the partition
  that carries it may not have been read yet (a backfill reads a type's partitions apart),
  so its empty hours are not a feed down.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from app.sources import repository as sources_repo
from models.cadence import MIN_EVENTS_PER_SLOT
from models.sources import SourceSystem

SETTLE_AFTER = timedelta(minutes=10)
BEHIND = timedelta(hours=2)
DENSITY_SPAN = timedelta(days=7)
"""How far back before a stream's newest event its density is measured."""
PAST = timedelta(hours=1)
"""An evaluation of a moment longer ago than this (a replayed history, yesterday) is of
data that has stopped arriving by definition."""


@dataclass(frozen=True, slots=True)
class Coverage:
    as_of: datetime
    settled: datetime
    """Data up to here has stopped arriving: ``as_of``, or the front of a stream catching up."""
    starts: dict[str, datetime]
    """Per event type with stored data: its first event."""
    catching_up: bool
    seen: frozenset[str] = frozenset()
    """While catching up: the sources with a stored event (empty otherwise: not read)."""

    @property
    def data_start(self) -> datetime | None:
        """The first stored event of any type."""
        return min(self.starts.values(), default=None)

    def start_of(self, event_types: Iterable[str] | None) -> datetime | None:
        """Where the data of these types (None: every type) is all observed: the latest of
        their first events; None when none of them has data yet."""
        wanted = set(self.starts if event_types is None else event_types)
        known = [self.starts[t] for t in wanted if t in self.starts]
        return max(known) if known else None

    def observed_from(self, source: SourceSystem) -> datetime | None:
        """From when a source's reporting slots are owed: its stream's first event; for a
        stream never seen, the first event of any (None while catching up: the stream, or
        the partition that carries this source, may simply not have been reached)."""
        if self.catching_up and source.code not in self.seen:
            return None
        known = [self.starts[t] for t in source.event_types if t in self.starts]
        if known:
            return min(known)
        return None if self.catching_up else self.data_start


async def coverage(conn: AsyncConnection, as_of: datetime) -> Coverage:
    now = datetime.now(UTC)
    spans = await sources_repo.stream_spans(conn, recent=now - SETTLE_AFTER)
    # Data is kept by the hour: a stream whose first event is at 07:00:09 covers 07:00 on.
    starts = {t: _hour(s.first_event_at) for t, s in spans.items()}
    if as_of < now - PAST:
        return Coverage(as_of, as_of, starts, catching_up=False)
    fronts = []
    for event_type, span in spans.items():
        # The slowest of its sources being written into: one partition of a type may lag
        # hours behind another while a backfill is read.
        front = span.slowest_recent
        if front is None or front >= as_of - BEHIND:
            continue
        if await _dense(conn, event_type, span.first_event_at, span.last_event_at):
            fronts.append(front)
    if not fronts:
        return Coverage(as_of, as_of, starts, catching_up=False)
    seen = await sources_repo.sources_seen(conn)
    return Coverage(as_of, min([as_of, *fronts]), starts, catching_up=True, seen=seen)


async def _dense(conn: AsyncConnection, event_type: str, first: datetime, newest: datetime) -> bool:
    """Does the type average at least MIN_EVENTS_PER_SLOT events an hour before its front?"""
    since = max(first, newest - DENSITY_SPAN)
    hours = max((newest - since) / timedelta(hours=1), 1.0)
    count = await sources_repo.events_of_type(
        conn, event_type, start=since - timedelta(hours=1), end=newest + timedelta(hours=1)
    )
    return count >= MIN_EVENTS_PER_SLOT * hours


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)

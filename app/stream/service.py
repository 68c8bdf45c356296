"""The hub: LISTEN for ingest change notices, turn them into indicator updates, alerts and
source-status changes, and fan those out to every SSE subscriber whose filter matches.

Recent events stay in a ring buffer so a client that reconnects with ``Last-Event-ID``
gets what it missed; an id from before the buffer (or from another process) gets a
``reset`` event instead, telling it to reload its state from the REST routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from app.alerts import service as alerts
from app.auth.service import ANONYMOUS
from app.indicators import service as indicators
from app.indicators.service import Question
from app.kit.buckets import Bucket
from app.sources import service as sources
from app.stream import repository
from app.stream.schemas import StreamEvent, Subscription
from app.units import repository as units_repo
from models.alert_rules import RULES, AlertRule
from models.catalogue import BY_CODE, CATALOGUE
from models.indicators import SOURCE_KINDS, Indicator, Metric
from models.notify import ChangeNotice

log = structlog.get_logger("stream")
DEBOUNCE_SECONDS = 0.1
ALERT_THROTTLE = 10.0
"""Seconds between alert evaluations triggered by change notices (a burst is one)."""
RESUME_WINDOW_SECONDS = 300.0
"""After the last client leaves, keep buffering this long so a reconnect can resume."""
MAX_DAYS_PER_UPDATE = 7
HIERARCHY = "2020"


def rollups_of(indicator: Indicator) -> set[str]:
    """Roll-up tables whose change can move the indicator."""
    out: set[str] = set()

    def walk(metric: Metric) -> None:
        if metric.kind in SOURCE_KINDS:
            out.add("source_hourly")
        elif metric.rollup:
            out.add(metric.rollup)
        for part in metric.plus:
            walk(part)

    for metric in (indicator.numerator, indicator.denominator):
        if metric is not None:
            walk(metric)
    return out  # lifecycle state tables are named in notices too (ingest lists them)


def merge(notices: list[ChangeNotice]) -> ChangeNotice:
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


class Hub:
    def __init__(
        self, engine: AsyncEngine, database_url: str, *, alert_interval: float,
        buffer_size: int = 2000,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._url = database_url
        self._alert_interval = alert_interval
        self.boot = format(int(time.time() * 1000), "x")
        self._seq = 0
        self._buffer: deque[StreamEvent] = deque(maxlen=buffer_size)
        self._subscribers: dict[asyncio.Queue[StreamEvent], Subscription] = {}
        self._notices: asyncio.Queue[ChangeNotice] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._ancestors: dict[str, set[str]] | None = None
        self._source_status: dict[str, str] = {}
        self._last_client_at = 0.0
        self._alerts_at = 0.0
        self.listening = asyncio.Event()

    # --- subscribers ----------------------------------------------------------------------

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(
        self, sub: Subscription, last_event_id: str | None
    ) -> tuple[asyncio.Queue[StreamEvent], list[StreamEvent]]:
        """Register a client; return its queue and the buffered events it missed."""
        queue: asyncio.Queue[StreamEvent] = asyncio.Queue(maxsize=1000)
        self._subscribers[queue] = sub
        self._last_client_at = time.monotonic()
        return queue, [e for e in self._missed(last_event_id) if sub.wants(e)]

    def unsubscribe(self, queue: asyncio.Queue[StreamEvent]) -> None:
        self._subscribers.pop(queue, None)
        self._last_client_at = time.monotonic()

    @property
    def _watched(self) -> bool:
        """Someone is connected, or was lately and may come back with ``Last-Event-ID``."""
        recent = time.monotonic() - self._last_client_at < RESUME_WINDOW_SECONDS
        return bool(self._subscribers) or (self._last_client_at > 0 and recent)

    def _missed(self, last_event_id: str | None) -> list[StreamEvent]:
        if not last_event_id:
            return []
        boot, _, seq = last_event_id.partition(":")
        oldest = int(self._buffer[0].id.partition(":")[2]) if self._buffer else self._seq + 1
        # isdigit() alone lets "²" through (headers are Latin-1), which int() refuses: a 500
        if boot != self.boot or not (seq.isascii() and seq.isdigit()) or int(seq) < oldest - 1:
            return [self._event("reset", {"reason": "missed events are gone; reload state"})]
        return [e for e in self._buffer if int(e.id.partition(":")[2]) > int(seq)]

    def _event(self, kind: Any, data: dict[str, Any], **meta: Any) -> StreamEvent:
        self._seq += 1
        return StreamEvent(id=f"{self.boot}:{self._seq}", kind=kind, data=data, **meta)

    def publish(self, kind: Any, data: dict[str, Any], **meta: Any) -> StreamEvent:
        event = self._event(kind, data, **meta)
        self._buffer.append(event)
        for queue, sub in list(self._subscribers.items()):
            if not sub.wants(event):
                continue
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a stalled client: make it reload rather than lag
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(self._event("reset", {"reason": "client too slow"}))
        return event

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="stream-listen"),
            asyncio.create_task(self._work(), name="stream-work"),
        ]
        if self._alert_interval > 0:
            self._tasks.append(asyncio.create_task(self._tick(), name="stream-tick"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            try:
                async for payload in repository.notices(self._url, self.listening):
                    backoff = 0.5
                    try:
                        self._notices.put_nowait(ChangeNotice.model_validate_json(payload))
                    except ValueError:
                        log.warning("unreadable change notice", payload=payload[:200])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: retry, the wall keeps running
                log.warning("listen failed; retrying", error=repr(exc), in_seconds=backoff)
            self.listening.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30)

    async def _work(self) -> None:
        while True:
            batch = [await self._notices.get()]
            await asyncio.sleep(DEBOUNCE_SECONDS)  # coalesce a burst of batch commits
            while not self._notices.empty():
                batch.append(self._notices.get_nowait())
            try:
                notice = merge(batch)
                await self.on_change(notice)
                await self.alerts_after(notice)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("change notice handling failed", error=repr(exc))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._alert_interval)
            try:
                await self.evaluate_alerts(datetime.now(UTC))
                await self.check_sources(datetime.now(UTC))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("periodic evaluation failed", error=repr(exc))

    # --- work -----------------------------------------------------------------------------

    async def on_change(self, notice: ChangeNotice) -> None:
        """Push the day values of every indicator the notice may have moved, per unit."""
        if not self._watched:
            return
        wanted = [
            i for i in CATALOGUE
            if rollups_of(i) & set(notice.rollups) and self._anyone_wants(i)
        ]  # fmt: skip
        if not wanted:
            return
        touched = await self._touched(notice.communes)
        end = Bucket.DAY.next_start(Bucket.DAY.floor(notice.last_bucket))
        start = max(
            Bucket.DAY.floor(notice.first_bucket), end - timedelta(days=MAX_DAYS_PER_UPDATE)
        )
        async with self._engine.connect() as conn:
            tops = await units_repo.top_units(conn, HIERARCHY)
            for indicator in wanted:
                for level in indicator.levels:
                    q = Question(indicator, tops[0], level, Bucket.DAY, start, end, HIERARCHY)
                    found = await indicators.values(conn, q)
                    # The public sees health series with small counts withheld.
                    public = await indicators.disclosed(conn, q, found, ANONYMOUS)
                    for value, seen in zip(found, public, strict=True):
                        if touched is not None and value.unit_code not in touched:
                            continue
                        for shown, audience in (
                            ((value, None),) if seen == value
                            else ((value, "operator"), (seen, "public"))
                        ):  # fmt: skip
                            self.publish(
                                "indicator",
                                {"indicator": indicator.code, "level": level, "bucket": "day",
                                 **shown.model_dump(mode="json")},
                                indicator=indicator.code, units=frozenset({value.unit_code}),
                                open_data=indicator.open_data and audience != "operator",
                                public_only=audience == "public",
                            )  # fmt: skip

    def _anyone_wants(self, indicator: Indicator) -> bool:
        if not self._subscribers:  # between reconnects: buffer everything
            return True
        return any(
            (s.indicators is None or indicator.code in s.indicators)
            and (s.operator or indicator.open_data)
            for s in self._subscribers.values()
        )

    async def _touched(self, communes: list[str]) -> set[str] | None:
        """Units whose values a change to ``communes`` moves (None: all of them)."""
        if not communes:
            return None
        if self._ancestors is None:
            async with self._engine.connect() as conn:
                by_unit = await units_repo.communes_of(conn, HIERARCHY)
            ancestors: dict[str, set[str]] = {}
            for unit, members in by_unit.items():
                for commune in members:
                    ancestors.setdefault(commune, set()).add(unit)
            self._ancestors = ancestors
        return {u for c in communes for u in self._ancestors.get(c, {c})}

    async def alerts_after(self, notice: ChangeNotice) -> None:
        """Evaluate the rules the changed roll-ups feed, at most every ``ALERT_THROTTLE``."""
        if self._alert_interval <= 0 or time.monotonic() - self._alerts_at < ALERT_THROTTLE:
            return
        changed = set(notice.rollups)
        rules = tuple(r for r in RULES if rollups_of(BY_CODE[r.indicator]) & changed)
        if rules:
            await self.evaluate_alerts(datetime.now(UTC), rules)

    async def evaluate_alerts(self, as_of: datetime, rules: tuple[AlertRule, ...] = RULES) -> None:
        self._alerts_at = time.monotonic()
        async with self._engine.begin() as conn:
            result = await alerts.evaluate(conn, as_of, rules=rules)
        for alert in (*result.opened, *result.resolved):
            self.publish(
                "alert", alert.model_dump(mode="json"), indicator=alert.indicator_code,
                units=frozenset({alert.unit_code}),
            )  # fmt: skip

    async def check_sources(self, now: datetime) -> None:
        """Publish each source whose fresh / late / silent status changed since last time."""
        async with self._engine.connect() as conn:
            statuses = await sources.source_statuses(
                conn, start=now - timedelta(days=1), end=now, now=now
            )
        for status in statuses:
            before = self._source_status.get(status.source)
            self._source_status[status.source] = status.status
            if before is not None and before != status.status:
                self.publish(
                    "source", status.model_dump(mode="json"), units=frozenset({status.unit_code})
                )

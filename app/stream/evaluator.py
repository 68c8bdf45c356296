"""The deployment's one evaluator: whichever API process holds the evaluator's advisory
lock turns ingest change notices into indicator updates, evaluates the alert rules and the
sources' status, and writes what changed to the ``stream_event`` log every replica serves.

The lock lives on the evaluator's own connection (which also LISTENs ``ioc_changes``): if
the process or its connection dies, PostgreSQL releases it and another replica, retrying
every ``RETRY_SECONDS``, takes over. Alert opening stays idempotent in the database (one
open alert per rule and unit), so even a moment of two evaluators cannot double an alert.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.alerts import service as alerts
from app.auth.service import ANONYMOUS
from app.indicators import service as indicators
from app.indicators.schemas import IndicatorValue
from app.indicators.service import Question
from app.kit.buckets import Bucket
from app.kit.connections import connect
from app.kit.outages import is_outage
from app.sources import service as sources
from app.stream import repository
from app.stream.backlog import Backlog, merge
from app.stream.repository import StreamDraft
from app.stream.schemas import EventKind
from app.units import repository as units_repo
from models.alert_rules import RULES, AlertRule
from models.calendar import business_calendar
from models.catalogue import BY_CODE, CATALOGUE
from models.indicators import SOURCE_KINDS, Indicator, Metric
from models.notify import ChangeNotice
from models.tables import SourceHourly
from models.units import HIERARCHY_2020, HIERARCHY_2025, HIERARCHY_LEVELS

log = structlog.get_logger("stream")
DEBOUNCE_SECONDS = 0.1
LANES = 2
"""Indicators evaluated at once, each on its own connection: one lane's Python work overlaps
the other's query, and alerts never hold the indicators up."""
ALERTS = "~alerts"
"""The backlog's key for the alert rules (no indicator code starts with ``~``)."""
ALERT_THROTTLE = 10.0
"""Seconds between alert evaluations triggered by change notices (a burst is one)."""
RETRY_SECONDS = 2.0
"""How often a replica that is not the evaluator tries to become it."""
CHECK_SECONDS = 5.0
"""How often the evaluator checks that its lock connection is alive."""
KEEP = timedelta(minutes=15)
"""Stream events are kept this long for clients resuming with ``Last-Event-ID``."""
PRUNE_SECONDS = 60.0
"""How often the evaluator drops stream events older than :data:`KEEP`."""
MAX_DAYS_PER_UPDATE = 7
HIERARCHIES = (HIERARCHY_2020, HIERARCHY_2025)
"""Values are published in each loaded hierarchy (its unit codes may repeat the other's, so
each value says its ``hierarchy``): a wall on either one follows its own units live."""
Computed = tuple[list[IndicatorValue], list[IndicatorValue]]
"""Values as computed, and as the public sees them."""
VOLATILE = frozenset({"as_of"})
"""Fields of an indicator value that change without the value changing."""


def rollups_of(indicator: Indicator) -> set[str]:
    """Roll-up tables whose change can move the indicator."""
    out: set[str] = set()

    def walk(metric: Metric) -> None:
        if metric.kind in SOURCE_KINDS:
            out.add(SourceHourly.__tablename__)
        elif metric.rollup:
            out.add(metric.rollup)
        for part in metric.plus:
            walk(part)

    for metric in (indicator.numerator, indicator.denominator):
        if metric is not None:
            walk(metric)
    return out  # lifecycle state tables are named in notices too (ingest lists them)


def stop_if_cancelled(exc: Exception) -> None:
    """Raise ``CancelledError`` (from ``exc``) if the running task has been asked to stop,
    whatever exception it is handling.

    A query cut short by cancellation is rolled back on its way out (SQLAlchemy finishes
    the connection's ``close()`` before re-raising the cancellation); when the database has
    just gone away that rollback fails, and its ``OperationalError`` is raised instead of
    the ``CancelledError``. A loop that catches ``Exception`` to carry on must call this
    first, or it swallows its own cancellation and runs on: the task group that cancelled
    it then waits for it for ever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling() > 0:
        raise asyncio.CancelledError from exc


def row(kind: EventKind, data: dict[str, Any], *, indicator: str | None = None,
        units: frozenset[str] = frozenset(), open_data: bool = True,
        public_only: bool = False) -> StreamDraft:  # fmt: skip
    """A ``stream_event`` row."""
    return StreamDraft(kind, data, indicator, sorted(units), open_data, public_only)


class Evaluator:
    def __init__(
        self,
        engine: AsyncEngine,
        database_url: str,
        *,
        alert_interval: float,
        volume_scale: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._clock = clock
        """The moment values and source status are computed as of (``Settings.now``)."""
        self._url = database_url
        self._alert_interval = alert_interval
        self._volume_scale = volume_scale
        """The volume the sources are expected at (``IOC_VOLUME_SCALE``)."""
        self._notices: asyncio.Queue[ChangeNotice] = asyncio.Queue()
        self._ancestors: dict[str, dict[str, set[str]]] | None = None
        """Per loaded hierarchy: each event commune code → the units it counts in."""
        self._tops: dict[str, tuple[str, str]] = {}
        """Per loaded hierarchy: its top unit, and the first hierarchy whose top unit counts
        exactly the same communes (itself if none): see ``_day_values``."""
        self._source_status: dict[str, str] = {}
        self._sent: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._alerts_at = 0.0
        self._publishing = asyncio.Lock()
        """One publish at a time: stream ids are then committed in the order they are drawn,
        so a replica reading the log after the newest id it has seen never steps over an id
        committed later (the lanes evaluate side by side)."""
        self.leading = asyncio.Event()
        """Set while this process is the evaluator and LISTENs to ingest's notices."""

    # --- who evaluates --------------------------------------------------------------------

    async def run(self) -> None:
        """Try to become the evaluator; evaluate while the lock is held; try again after."""
        while True:
            try:
                async with await connect(self._url) as conn:
                    while not await repository.try_lead(conn):  # noqa: ASYNC110 (polls the lock)
                        await asyncio.sleep(RETRY_SECONDS)
                    log.info("this process evaluates alerts and source status")
                    await self._lead(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the lock connection failed: someone else may lead
                stop_if_cancelled(exc)
                log.warning("evaluator stopped; retrying", error=repr(exc))
            finally:
                self.leading.clear()
            await asyncio.sleep(RETRY_SECONDS)

    async def _lead(self, conn: Any) -> None:
        await conn.execute(f"LISTEN {repository.CHANNEL}")
        self._source_status.clear()
        self._sent.clear()
        await self._touched(["warm"])  # load the unit tree now, not on the first notice
        # and the holiday calendar (source slots): its first load took seconds, all of
        # which the first live notice waited
        await asyncio.to_thread(business_calendar)
        self.leading.set()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._work())
            tasks.create_task(self._prune())
            if self._alert_interval > 0:
                tasks.create_task(self._tick())
            while True:  # ends (and cancels the others) when the connection fails
                async for notify in conn.notifies(timeout=CHECK_SECONDS):
                    try:
                        self._notices.put_nowait(ChangeNotice.model_validate_json(notify.payload))
                    except ValueError:
                        log.warning("unreadable change notice", payload=notify.payload[:200])
                await conn.execute("SELECT 1")

    async def _work(self) -> None:
        """Take ingest's notices into the backlog (a burst of batch commits as one), which
        ``LANES`` lanes evaluate: per indicator, and the alert rules beside them."""
        backlog = Backlog()
        # A lane's evaluation always runs to its end or is cancelled with this task: none
        # is left running unowned past the app's shutdown and the disposal of the engine
        # whose connection it holds.
        async with asyncio.TaskGroup() as lanes:
            for _ in range(LANES):
                lanes.create_task(self._lane(backlog))
            while True:
                batch = [await self._notices.get()]
                await asyncio.sleep(DEBOUNCE_SECONDS)  # coalesce a burst of batch commits
                while not self._notices.empty():
                    batch.append(self._notices.get_nowait())
                notice = merge(batch)
                backlog.add(ALERTS, notice)
                for indicator in CATALOGUE:
                    if rollups_of(indicator) & set(notice.rollups):
                        backlog.add(indicator.code, notice)

    async def _lane(self, backlog: Backlog) -> None:
        while True:
            code, notice = await backlog.take()
            try:
                if code == ALERTS:
                    await self.alerts_after(notice)
                else:
                    await self.on_change(notice, [BY_CODE[code]])
            except Exception as exc:  # the next change tries again
                stop_if_cancelled(exc)
                if is_outage(exc):
                    # One line: a traceback rendered per indicator of the backlog took
                    # seconds each on a busy machine, all on the loop the API answers on.
                    log.warning("change notice handling failed: database unavailable",
                                indicator=code, error=repr(exc))  # fmt: skip
                else:
                    log.error("change notice handling failed", indicator=code,
                              error=repr(exc), exc_info=exc)  # fmt: skip
            finally:
                backlog.done(code)

    async def _tick(self) -> None:
        async def evaluate() -> None:
            await self.evaluate_alerts(datetime.now(UTC))
            await self.check_sources(self._clock())

        await _every(self._alert_interval, evaluate, "periodic evaluation failed")

    async def _prune(self) -> None:
        """Drop stream events older than :data:`KEEP`, on a clock of its own: every batch
        adds its changed values to the log, so a log pruned only after the periodic alert
        evaluation grew without end where that was turned off (``alert_interval_seconds``
        0: 2 million events, 1.2 GB, in the first 37 minutes of loading a year) or failed."""

        async def prune() -> None:
            async with self._engine.begin() as conn:
                await repository.prune(conn, KEEP)

        await _every(PRUNE_SECONDS, prune, "stream log pruning failed")

    # --- work -----------------------------------------------------------------------------

    async def publish(self, rows: list[StreamDraft]) -> list[int]:
        """Append to the stream log (every replica is notified at commit)."""
        if not rows:
            return []
        async with self._publishing, self._engine.begin() as conn:
            return await repository.append(conn, rows)

    async def on_change(self, notice: ChangeNotice, among: Iterable[Indicator] = CATALOGUE) -> None:
        """Publish the day values of ``among`` the notice moved, per unit — only those that
        changed."""
        wanted = [i for i in among if rollups_of(i) & set(notice.rollups)]
        if not wanted:
            return
        end = Bucket.DAY.next_start(Bucket.DAY.floor(notice.last_bucket))
        start = max(
            Bucket.DAY.floor(notice.first_bucket), end - timedelta(days=MAX_DAYS_PER_UPDATE)
        )
        shared: dict[tuple[str, str], Computed] = {}
        for hierarchy, touched in (await self._touched(notice.communes)).items():
            await self._publish_values(wanted, hierarchy, touched, start, end, shared)
        self._forget_before(start - timedelta(days=MAX_DAYS_PER_UPDATE))

    async def _publish_values(
        self, wanted: list[Indicator], hierarchy: str, touched: set[str] | None,
        start: datetime, end: datetime, shared: dict[tuple[str, str], Computed],
    ) -> None:  # fmt: skip
        """Publish the changed day values of ``wanted`` for the ``touched`` units (None: all)
        of one hierarchy."""
        out: list[StreamDraft] = []
        top = self._tops[hierarchy][0]
        async with self._engine.connect() as conn:
            for indicator in wanted:
                levels = [lv for lv in indicator.levels if lv in HIERARCHY_LEVELS[hierarchy]]
                for level in reversed(levels):  # communes first: where data lands
                    q = Question(
                        indicator, top, level, Bucket.DAY, start, end, hierarchy,
                        self._volume_scale, self._clock(),
                    )  # fmt: skip
                    found, public = await self._day_values(conn, q, shared)
                    for value, seen in zip(found, public, strict=True):
                        if touched is not None and value.unit_code not in touched:
                            continue
                        for shown, audience in (
                            ((value, "all"),) if seen == value
                            else ((value, "operator"), (seen, "public"))
                        ):  # fmt: skip
                            data = {"indicator": indicator.code, "hierarchy": hierarchy,
                                    "level": level, "bucket": "day",
                                    **shown.model_dump(mode="json")}  # fmt: skip
                            if not self._changed(data, audience):
                                continue
                            out.append(row(
                                "indicator", data, indicator=indicator.code,
                                units=frozenset({value.unit_code}),
                                open_data=indicator.open_data and audience != "operator",
                                public_only=audience == "public",
                            ))  # fmt: skip
                    # Each level as soon as it is known: the first values reach the walls
                    # while the rest are computed.
                    await self.publish(out)
                    out = []

    async def _day_values(
        self, conn: AsyncConnection, q: Question, shared: dict[tuple[str, str], Computed]
    ) -> Computed:
        """The question's values, and as the public sees them (health series with small
        counts withheld).

        Every measure reaches a unit only through the event communes under it in its
        hierarchy's closure (roll-ups, lifecycle states, sources and population alike), and
        the top unit has no siblings to be judged among; so two hierarchies whose top units
        count the same communes have the same top values but for the unit's code, and they
        are computed once a change (``shared``, keyed by indicator and first such hierarchy).
        """
        top, same_as = self._tops[q.hierarchy]
        key = (q.indicator.code, same_as)
        at_top = q.unit == top and q.level == HIERARCHY_LEVELS[q.hierarchy][0]
        if at_top and key in shared:
            found, public = shared[key]
            return (
                [v.model_copy(update={"unit_code": top}) for v in found],
                [v.model_copy(update={"unit_code": top}) for v in public],
            )
        found = await indicators.values(conn, q)
        public = await indicators.disclosed(conn, q, found, ANONYMOUS)
        if at_top:
            shared[key] = (found, public)
        return found, public

    def _changed(self, data: dict[str, Any], audience: str) -> bool:
        key = (data["indicator"], data["hierarchy"], data["level"], data["unit_code"],
               data["period_start"], audience)  # fmt: skip
        stable = {k: v for k, v in data.items() if k not in VOLATILE}
        if self._sent.get(key) == stable:
            return False
        self._sent[key] = stable
        return True

    def _forget_before(self, moment: datetime) -> None:
        """Drop remembered values of periods long past (bounded memory)."""
        cutoff = moment.isoformat()
        if len(self._sent) > 200_000:
            self._sent = {k: v for k, v in self._sent.items() if str(k[4]) >= cutoff}

    async def _touched(self, communes: list[str]) -> dict[str, set[str] | None]:
        """Per loaded hierarchy, the units whose values a change to ``communes`` moves
        (None: all of them)."""
        if self._ancestors is None:
            ancestors: dict[str, dict[str, set[str]]] = {}
            tops: dict[str, tuple[str, str]] = {}
            counted: dict[frozenset[str], str] = {}  # a top's communes → its hierarchy
            async with self._engine.connect() as conn:
                loaded = await units_repo.hierarchies(conn)
                for hierarchy in (h for h in HIERARCHIES if h in loaded):
                    of = ancestors[hierarchy] = {}
                    communes_of = await units_repo.communes_of(conn, hierarchy)
                    for unit, members in communes_of.items():
                        for commune in members:
                            of.setdefault(commune, set()).add(unit)
                    top = (await units_repo.top_units(conn, hierarchy))[0]
                    under = frozenset(communes_of.get(top, ()))
                    tops[hierarchy] = (top, counted.setdefault(under, hierarchy))
            self._ancestors, self._tops = ancestors, tops
        return {
            hierarchy: {u for c in communes for u in of.get(c, {c})} if communes else None
            for hierarchy, of in self._ancestors.items()
        }

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
            result = await alerts.evaluate(
                conn, as_of, rules=rules, volume_scale=self._volume_scale
            )
        await self.publish([
            row("alert", alert.model_dump(mode="json"), indicator=alert.indicator_code,
                units=frozenset({alert.unit_code}))
            for alert in (*result.opened, *result.resolved)
        ])  # fmt: skip

    async def check_sources(self, now: datetime) -> None:
        """Publish each source whose status changed since the evaluator last looked."""
        async with self._engine.connect() as conn:
            statuses = await sources.source_statuses(
                conn, start=now - timedelta(days=1), end=now, now=now,
                volume_scale=self._volume_scale,
            )  # fmt: skip
        out = []
        for status in statuses:
            before = self._source_status.get(status.source)
            self._source_status[status.source] = status.status
            if before is not None and before != status.status:
                out.append(row("source", status.model_dump(mode="json"),
                               units=frozenset({status.unit_code})))  # fmt: skip
        await self.publish(out)


async def _every(seconds: float, work: Callable[[], Awaitable[None]], failed: str) -> None:
    """Run ``work`` every ``seconds`` until cancelled; a failure is logged and the next
    round tries again (a cancellation the failure hides still stops it)."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stop_if_cancelled(exc)
            log.exception(failed, error=repr(exc))

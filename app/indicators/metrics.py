"""The sums behind a value: each metric of a question per (unit, bucket), read from the
store that keeps it (roll-up tiers, lifecycle tables, source slots), and the completeness
of the sources feeding it; each part summed once per answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from app.indicators import lifecycles, repository
from app.indicators.questions import Question
from app.indicators.repository import Sums
from app.sources.service import SLOT_KINDS, completeness_of, slot_sums, source_metric
from ingest.tables import streams_feeding
from models.calendar import public_holidays
from models.events import REGISTRY
from models.indicators import LIFECYCLE_KINDS, Indicator, Metric
from models.sectors import DATA


def streams_of(indicator: Indicator) -> list[str] | None:
    """Event types whose sources feed the indicator: the streams declared as filling its
    roll-ups or state tables (``ingest.tables``); None: not a stream's indicator."""
    if indicator.sector == DATA:
        return None
    tables = {m.rollup for m in (indicator.numerator, indicator.denominator) if m and m.rollup}
    found = {type_name for table in tables for type_name in streams_feeding(table)}
    return [type_name for type_name in REGISTRY if type_name in found] or None


SlotSums = tuple[dict[tuple[str, datetime], float], dict[tuple[str, datetime], float]]


@dataclass(frozen=True, slots=True)
class Memo:
    """What one answer has already summed: a rate's numerator and denominator often share a
    part (the dossiers open at the end of the period; owed and arrived reporting slots, and
    the completeness beside every value, from one slot tally), which is then queried once."""

    parts: dict[str, Sums] = field(default_factory=dict)
    slots: dict[str, SlotSums] = field(default_factory=dict)


async def metric_sums(conn: AsyncConnection, q: Question, metric: Metric) -> Sums:
    """One metric's sums per (unit, bucket) for the question's units and buckets, as of now."""
    return await summed(conn, q, metric, q.as_of())


async def summed(
    conn: AsyncConnection,
    q: Question,
    metric: Metric,
    now: datetime,
    memo: Memo | None = None,
) -> Sums:
    """The metric's sums per (unit, bucket), its ``plus`` metrics added with their weights."""
    totals: dict[tuple[str, datetime], float] = {}
    stamps: dict[tuple[str, datetime], datetime] = {}
    memo = Memo() if memo is None else memo
    for part in (metric, *metric.plus):
        key_of_part = _part_key(part)
        if key_of_part not in memo.parts:
            memo.parts[key_of_part] = await _one_metric(conn, q, part, now, memo)
        if not metric.plus:  # one part: its sums weighted, as the loop below would add them
            weight = part.weight
            return {
                key: (0.0 + weight * value, as_of)
                for key, (value, as_of) in memo.parts[key_of_part].items()
            }
        for key, (value, as_of) in memo.parts[key_of_part].items():
            totals[key] = totals.get(key, 0.0) + part.weight * value
            if as_of is not None and (key not in stamps or as_of > stamps[key]):
                stamps[key] = as_of
    return {key: (total, stamps.get(key)) for key, total in totals.items()}


def _part_key(part: Metric) -> str:
    """A part's sums are its own, whatever its weight and the parts added to it."""
    return part.model_dump_json(exclude={"weight", "plus"})


async def sum_together(
    conn: AsyncConnection, q: Question, metrics: tuple[Metric | None, ...], memo: Memo
) -> None:
    """Sum ``metrics`` (a rate's numerator and denominator) in one query when they are
    single sums of one roll-up, into ``memo`` for :func:`summed` to find: one pass over
    a year of day rows instead of one per metric. Otherwise nothing is done here."""
    parts = [m for m in metrics if m is not None and not m.plus]
    keys = [_part_key(m) for m in parts]
    if len(parts) < 2 or len(set(keys)) < len(keys) or any(k in memo.parts for k in keys):
        return
    found = await repository.rollup_sums_together(conn, tuple(parts), q.slice)
    if found is not None:
        memo.parts.update(zip(keys, found, strict=True))


async def _one_metric(
    conn: AsyncConnection, q: Question, metric: Metric, now: datetime, memo: Memo
) -> Sums:
    where = q.slice
    if metric.kind == "sum":
        return await repository.rollup_sums(conn, metric, where)
    if metric.kind == "working_days_to_done":
        holidays = holidays_between(q.start, q.end)
        return await lifecycles.working_days_to_done(conn, metric, where, holidays)
    if metric.kind in ("received_in_period", "completed_in_period"):
        return await lifecycles.lifecycle_entities(conn, metric, where)
    if metric.kind in LIFECYCLE_KINDS:
        return await lifecycles.lifecycle_counts(conn, metric, where, now)
    if metric.kind == "population":
        return {}  # per unit, not per period: see values()
    # Sums worked out in Python are keyed by periods in the database's zone, as the others.
    zone = await repository.stored_zone(conn)
    if metric.kind in SLOT_KINDS:
        slots = await _slot_sums(conn, q, [metric.stream] if metric.stream else None, now, memo)
        counted = slots[SLOT_KINDS.index(metric.kind)]
        return {key: (value, None) for key, value in repository.in_zone(counted, zone).items()}
    mapping = await repository.commune_to_unit(conn, where)
    counts = await source_metric(
        conn, metric.kind, [metric.stream] if metric.stream else None, mapping,
        bucket=q.bucket, start=q.start, end=q.end, now=now, volume_scale=q.volume_scale,
    )  # fmt: skip
    return {key: (value, None) for key, value in repository.in_zone(counts, zone).items()}


def holidays_between(start: datetime, end: datetime) -> list[date]:
    """Public holidays (Tết included) that a dossier finished in ``[start, end)`` may span:
    processing rarely takes more than a year."""
    first, last = (start - timedelta(days=400)).date(), end.date()
    return sorted(d for d in public_holidays() if first <= d <= last)


async def completeness(
    conn: AsyncConnection, q: Question, now: datetime, memo: Memo | None = None
) -> dict[tuple[str, datetime], float]:
    """Arrived ÷ owed reporting slots of the sources feeding the indicator, per (unit,
    bucket), keyed by periods in the database's zone like the sums beside it; empty for an
    indicator no stream feeds."""
    streams = streams_of(q.indicator)
    if streams is None:
        return {}
    shares = completeness_of(*await _slot_sums(conn, q, streams, now, memo or Memo()))
    return repository.in_zone(shares, await repository.stored_zone(conn))


async def _slot_sums(
    conn: AsyncConnection, q: Question, event_types: list[str] | None, now: datetime, memo: Memo
) -> SlotSums:
    """Owed and arrived slots of the sources of ``event_types`` in the question's units."""
    key = repr(event_types)
    if key not in memo.slots:
        mapping = await repository.commune_to_unit(conn, q.slice)
        memo.slots[key] = await slot_sums(
            conn, event_types, mapping, bucket=q.bucket, start=q.start, end=q.end, now=now,
            volume_scale=q.volume_scale,
        )  # fmt: skip
    return memo.slots[key]

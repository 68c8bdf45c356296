"""Arrived reporting slots summed in the database from the source day masks.

Two layouts of the same counts: an hour bucket's (``arrived_slots``: a row per planned
slot and day, joined to the masks, since the hour slots of one day fall in several periods),
and a day or longer bucket's (``arrived_by_day``: each (source, day) mask looks its
schedule's cell up in arrays, ``app.sources.day_plan``), which reads the masks once with no
join or sort of the plan: a province's year is some 400,000 source-days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.sources.day_plan import DayPlan
from models.clock import LOCAL
from models.tables import TIERS, SourceHourly

_MASKS = TIERS[SourceHourly.__tablename__].source_day_mask

_ARRIVED = text(
    """
    WITH src AS (
        SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:units AS int[]),
                             CAST(:schedules AS int[]), CAST(:many AS bool[]))
            AS s(source, unit, schedule, many)
    ), plan AS (
        SELECT * FROM unnest(CAST(:p_schedule AS int[]), CAST(:p_slot AS int[]),
                             CAST(:p_day AS timestamptz[]), CAST(:p_hours AS int[]),
                             CAST(:p_whole AS bool[]), CAST(:p_pending AS bool[]),
                             CAST(:p_period AS int[]))
            AS p(schedule, slot, day_start, hours, whole, pending, period)
    )
    SELECT unit, period, sum(n) AS arrived, sum(n) FILTER (WHERE pending) AS pending
    FROM (
        SELECT g.unit, p.period, p.pending,
               sum(CASE WHEN p.whole
                        THEN bit_count(CAST(g.hour_mask & p.hours AS bit(32)))
                        ELSE CAST(g.hour_mask & p.hours <> 0 AS int) END) AS n
        FROM (
            SELECT s.unit, s.schedule, m.bucket_start, m.hour_mask
            FROM src AS s
            JOIN {masks} AS m ON m.source = s.source
            WHERE NOT s.many AND m.bucket_start >= :lo AND m.bucket_start < :hi
            OFFSET 0
        ) AS g
        JOIN plan AS p ON p.schedule = g.schedule AND p.day_start = g.bucket_start
        GROUP BY g.unit, p.period, p.pending
        UNION ALL
        SELECT g.unit, p.period, p.pending, 1 AS n
        FROM (
            SELECT s.unit, s.schedule, s.source, m.bucket_start, m.hour_mask
            FROM src AS s
            JOIN {masks} AS m ON m.source = s.source
            WHERE s.many AND m.bucket_start >= :lo AND m.bucket_start < :hi
            OFFSET 0
        ) AS g
        JOIN plan AS p ON p.schedule = g.schedule AND p.day_start = g.bucket_start
        WHERE g.hour_mask & p.hours <> 0
        GROUP BY g.unit, p.period, p.pending, g.source, p.slot
    ) AS slots
    GROUP BY unit, period
    """
)
"""Arrived planned slots per unit and period: slots of one day counted row by row (a
whole day by its arrived hours), slots of several days (a week) once per source however
many of their days arrived."""


async def arrived_slots(
    conn: AsyncConnection,
    unit_of: dict[str, str],
    schedule_of: dict[str, int],
    rows: list[tuple[int, int, datetime, int, bool, bool, bool, int]],
) -> dict[tuple[str, int], tuple[int, int]]:
    """Per (unit, period number): the planned slots (``app.sources.slots.SlotPlan``) of the
    sources in ``unit_of`` (source code → unit) that arrived, and of them those counted
    only because they arrived; summed in the database from the source day masks, so a
    year of a thousand sources comes back as one row per unit and period."""
    table = _MASKS
    if table is None or not rows or not unit_of:
        return {}
    codes = list(unit_of)
    unit_names = sorted(set(unit_of.values()))
    unit_no = {unit: n for n, unit in enumerate(unit_names)}
    columns = list(zip(*rows, strict=True))
    days = columns[2]
    # A schedule's slots are all of one day or all of several (a week cadence).
    several = {row[0] for row in rows if row[6]}
    assert all(row[6] for row in rows if row[0] in several)
    stmt = text(_ARRIVED.text.format(masks=table.name))
    result = await conn.execute(
        stmt,
        {
            "codes": codes,
            "units": [unit_no[unit_of[c]] for c in codes],
            "schedules": [schedule_of[c] for c in codes],
            "many": [schedule_of[c] in several for c in codes],
            "p_schedule": list(columns[0]),
            "p_slot": list(columns[1]),
            "p_day": list(days),
            "p_hours": list(columns[3]),
            "p_whole": list(columns[4]),
            "p_pending": list(columns[5]),
            "p_period": list(columns[7]),
            "lo": min(days),
            "hi": max(days) + timedelta(days=1),
        },
    )
    return {
        (unit_names[unit], period): (int(n), int(pending or 0))
        for unit, period, n, pending in result
    }


_CELLS = """
    SELECT s.unit, s.source, m.i, {key} AS key,
           m.hour_mask & p.hours[m.i] AS got, {pending} AS got_pending
    FROM src AS s CROSS JOIN p CROSS JOIN LATERAL (
        SELECT hour_mask, s.base + CAST(date_part('day', bucket_start - :lo) AS int) AS i
        FROM {masks}
        WHERE source = s.source AND bucket_start >= :lo AND bucket_start < :hi
        OFFSET 0
    ) AS m
    WHERE s.kind {kind}
    """
_BY_DAY = """
    WITH src AS (
        SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:units AS int[]),
                             CAST(:bases AS int[]), CAST(:kinds AS int[]))
            AS s(source, unit, base, kind)
    ), p AS (
        SELECT CAST(:hours AS int[]) AS hours, CAST(:pending AS int[]) AS pending,
               CAST(:period AS int[]) AS period
    ), slots AS (
        SELECT unit, key, sum(bit_count(CAST(got AS bit(32)))) AS n,
               sum(bit_count(CAST(got_pending AS bit(32)))) AS n_pending
        FROM ({hourly}) AS cells
        WHERE got <> 0
        GROUP BY unit, key
        UNION ALL
        SELECT unit, key, count(*), count(*) FILTER (WHERE got_pending <> 0)
        FROM ({daily}) AS cells
        WHERE got <> 0
        GROUP BY unit, key
        UNION ALL
        SELECT unit, min(key), 1, CAST(bool_or(got_pending <> 0) AS int)
        FROM ({weekly}) AS cells
        WHERE got <> 0
        GROUP BY unit, source, (i - 1) / 7
    )
    SELECT unit, {period} AS period, sum(n) AS arrived, sum(n_pending) AS pending
    FROM slots CROSS JOIN p
    GROUP BY unit, {period}
    """
"""Arrived slots per unit and period: a day's owed hours that arrived (an hour schedule's
slots) or whether any did (a day schedule's slot), and a week's slot once per source however
many of its days arrived (a schedule's cells are whole weeks from a Monday). The pending
part: slots counted only because they arrived. Where units hold several sources each, summed
per unit and day first, so a day's period is looked up once per unit, not once per source;
per source (``/sources``), straight per period."""


def _ints(values: Iterable[int]) -> str:
    """An int array as PostgreSQL's text form: one string, not a parameter per element."""
    return "{" + ",".join(map(str, values)) + "}"


def _layout(masks: str, per_day: bool, pending: str) -> dict[str, str]:
    """The parts of :data:`_BY_DAY`: keyed by day (then period) or by period straight."""
    key, period = ("m.i", "p.period[key]") if per_day else ("p.period[m.i]", "key")
    parts = {"period": period}
    for name, kind in (("hourly", "= 0"), ("daily", "= 1"), ("weekly", "= 2")):
        parts[name] = _CELLS.format(masks=masks, pending=pending, kind=kind, key=key)
    return parts


async def arrived_by_day(
    conn: AsyncConnection, unit_of: dict[str, str], plan: DayPlan
) -> dict[tuple[str, int], tuple[int, int]]:
    """Per (unit, period number): the slots of ``plan`` of the sources in ``unit_of`` (source
    code → unit) that arrived, and of them those counted only because they arrived."""
    if _MASKS is None or not unit_of:
        return {}
    codes = list(unit_of)
    unit_names = sorted(set(unit_of.values()))
    unit_no = {unit: n for n, unit in enumerate(unit_names)}
    lo = datetime.combine(plan.first, datetime.min.time(), LOCAL)
    # A range wholly past has no slot pending: no pending hours to look up per row.
    pending = "m.hour_mask & p.pending[m.i]" if any(plan.pending) else "0"
    result = await conn.execute(
        text(_BY_DAY.format(**_layout(_MASKS.name, len(codes) >= 2 * len(unit_names), pending))),
        {
            "codes": codes,
            "units": [unit_no[unit_of[c]] for c in codes],
            "bases": [plan.schedule_of[c] * plan.days + 1 for c in codes],
            "kinds": [plan.kinds[plan.schedule_of[c]] for c in codes],
            "hours": _ints(plan.hours),
            "pending": _ints(plan.pending),
            "period": _ints(plan.period),
            "lo": lo,
            "hi": lo + timedelta(days=plan.days),
        },
    )
    return {
        (unit_names[unit], period): (int(n), int(pending or 0))
        for unit, period, n, pending in result
    }

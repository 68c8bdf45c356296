"""The moments of a lifecycle entity, and their per-day running totals kept in the batch.

One definition of when an entity was received, finished and due, read by ingest (which
keeps :class:`~models.tables.LifecycleDaily` counts of them) and by the indicator queries
(which count open and overdue entities from those counts, or from the state table for the
part of a day not over yet).

Keeping the counts exact: before a batch's state deltas are merged, the state rows they will
change are locked (``FOR UPDATE``, in key order) and their moments taken off their days;
the merge's ``RETURNING`` gives the new moments, added back in the same statement. Both run
in the batch's transaction, so the counts always equal a count of the state table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Dialect,
    String,
    Table,
    case,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert

from ingest.spec import table_of
from models.clock import LOCAL_TZ
from models.tables import LifecycleDaily

COMPLETION = ("completed_at", "resolved_at")
"""The step that finishes an entity: a dossier's completion, a report's resolution."""
LATER_STEPS = ("rated_at",)
"""Steps that only come after the completion: seen alone, they prove the entity done."""
MOMENT_COLUMNS = ("received_at", "due_at", "supplement_days", *COMPLETION, *LATER_STEPS)
"""The state columns the moments are computed from (those a state table has)."""

Columns = Any
"""A state table's columns, or those of a statement returning them (``.c``)."""


def from_receipt(c: Columns, moment: ColumnElement[Any]) -> ColumnElement[Any]:
    """``moment``, never before the entity's receipt (a skewed clock); NULL stays NULL."""
    return case((moment.is_(None), None), else_=func.greatest(c.received_at, moment))


def completed(c: Columns) -> ColumnElement[Any]:
    """When the entity was completed, if that step is known."""
    (name,) = (n for n in COMPLETION if n in c)
    return from_receipt(c, c[name])


def done(c: Columns) -> ColumnElement[Any]:
    """Since when the entity is known to be finished: its completion, else the first later
    step seen (a rating proves the dossier completed even when that step was lost or came
    before the data began); NULL while nothing shows it finished."""
    (name,) = (n for n in COMPLETION if n in c)
    later = [c[n] for n in LATER_STEPS if n in c]
    return from_receipt(c, func.coalesce(c[name], *later))


def due(c: Columns) -> ColumnElement[Any]:
    """The deadline; the citizen's supplement time moves it where the table keeps it."""
    deadline: ColumnElement[Any] = c.due_at
    if "supplement_days" in c:
        deadline = deadline + c.supplement_days * literal_column("interval '1 day'")
    return deadline


def moments(c: Columns) -> dict[str, ColumnElement[Any]]:
    """Every moment counted per day; NULL where it has not happened (never done)."""
    finished = done(c)
    # greatest() skips NULLs: an entity never done must stay NULL (never subtracted).
    return {
        "received": c.received_at,
        "done": finished,
        "due": due(c),
        "due_or_done": case((finished.is_(None), None), else_=func.greatest(due(c), finished)),
    }


def _counts(state: Table, rows: Any, sign: int) -> Any:
    """``INSERT … SELECT`` adding ``sign`` per entity in ``rows`` to its moments' days."""
    days = union_all(
        *(
            select(
                literal(name, String).label("moment"),
                func.date_trunc("day", at, LOCAL_TZ).label("bucket_start"),
                rows.c.commune_code.label("commune_code"),
            ).where(at.is_not(None))
            for name, at in moments(rows.c).items()
        )
    ).subquery("days")
    keys = (days.c.moment, days.c.bucket_start, days.c.commune_code)
    table_name = literal(state.name, String).label("state_table")
    counted = (
        select(table_name, *keys, (sign * func.count()).label("n")).group_by(*keys).order_by(*keys)
    )
    target = table_of(LifecycleDaily)
    stmt = insert(target).from_select(
        ["state_table", "moment", "bucket_start", "commune_code", "entities"], counted
    )
    return stmt.on_conflict_do_update(
        index_elements=["state_table", "moment", "bucket_start", "commune_code"],
        set_={"entities": target.c.entities + stmt.excluded.entities, "updated_at": func.now()},
    )


KEYS = "keys"
"""The parameter of :func:`take_off_sql`: the keys of the entities a batch changes."""


def take_off_sql(state: Table, key: str, dialect: Dialect) -> str:
    """Lock the state rows of the entities whose keys are the ``%(keys)s`` parameter (a
    list: an index look-up per key, whatever the planner knows of a staging table), in key
    order, and take their current moments off their days."""
    cols = [state.c[n] for n in ("commune_code", *MOMENT_COLUMNS) if n in state.c]
    locked = (
        select(*cols)
        .where(state.c[key] == func.any(literal_column(f"%({KEYS})s")))
        .order_by(state.c[key])
        .with_for_update()
        .cte("locked")
    )
    sql = _text(_counts(state, locked, -1).add_cte(locked), dialect)
    # The compiler escapes a literal "%" for the driver's parameter style: the
    # placeholder is meant as one.
    return sql.replace(f"%%({KEYS})s", f"%({KEYS})s")


def put_back(state: Table, merge: Any) -> Any:
    """The merge (an ``INSERT … ON CONFLICT`` into ``state``) as a CTE returning the new
    moments' columns, and the statement adding them to their days."""
    cols = [state.c[n] for n in ("commune_code", *MOMENT_COLUMNS) if n in state.c]
    merged = merge.returning(*cols).cte("merged")
    return _counts(state, merged, 1).add_cte(merged)


def _text(stmt: Any, dialect: Dialect) -> str:
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

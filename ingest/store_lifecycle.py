"""The moments of a lifecycle entity, and their per-unit day running totals kept in the batch.

One definition of when an entity was received, finished, due and completed, read by ingest
(which keeps :data:`~models.tables.LIFECYCLE_UNIT_DAILY` counts of them) and by the
indicator queries (which count open, overdue, received and completed entities from those
counts, or from the state table for hours and the part of a day not over yet).

Keeping the counts exact: before a batch's state deltas are merged, the state rows they will
change are locked (``FOR UPDATE``, in key order) and their moments staged, counted negative
per commune and day (:data:`MOMENTS`); the merge's ``RETURNING`` gives the new moments,
netted against the staged ones in the same statement, and only the (commune, day) counts
that changed go to the units: a step that leaves the receipt and the deadline where they
were costs no unit row for them. Both run in the batch's transaction, so the counts always
equal a count of the state table. Each commune's change goes to every unit the closure table
says holds it, in both hierarchies, as the roll-ups' unit day tiers do
(``ingest.store_rollups``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Dialect,
    MetaData,
    Select,
    String,
    Table,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.schema import CreateTable

from models.clock import LOCAL_TZ
from models.tables import LIFECYCLE_UNIT_DAILY, AdminUnitClosure, kept_columns
from models.tables.base import Timestamp
from models.tables.lifecycle_totals import COMPLETED, KEPT, KEY

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


def day_moments(c: Columns, state: Table) -> dict[str, tuple[ColumnElement[Any], list[Any]]]:
    """Every moment counted per day, each with the values of the kept columns it is counted
    by (the state's columns for a completion, NULL for the other moments)."""
    target = LIFECYCLE_UNIT_DAILY
    kept = kept_columns(state.name)
    none = [cast(null(), target.c[k].type).label(k) for k in kept]
    return {
        **{name: (at, none) for name, at in moments(c).items()},
        COMPLETED: (completed(c), [c[k].label(k) for k in kept]),
    }


_CLOSURE = AdminUnitClosure.__table__

MOMENTS = Table(
    "staging_lifecycle_moments",
    MetaData(),
    Column("moment", String(20), nullable=False),
    Column("commune_code", String(8), nullable=False),
    Column("bucket_start", Timestamp, nullable=False),
    *(LIFECYCLE_UNIT_DAILY.c[k]._copy() for k in KEPT),
    Column("entities", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)
"""The session's staging table of the moments a batch takes off (per commune and day, with
a negative count), netted against the moments it puts back before they reach the units."""


def moments_ddl() -> str:
    """The staging table :data:`MOMENTS`, made if missing, emptied at each commit."""
    ddl = CreateTable(MOMENTS, if_not_exists=True)
    return str(ddl.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


def _per_commune(state: Table, rows: Any, sign: int) -> Select[Any]:
    """``sign`` per entity in ``rows`` on each of its moments' days, per commune: the
    columns of :data:`MOMENTS`, summed per key."""
    kept = kept_columns(state.name)
    days = union_all(
        *(
            select(
                literal(name, String).label("moment"),
                rows.c.commune_code.label("commune_code"),
                func.date_trunc("day", at, LOCAL_TZ).label("bucket_start"),
                *dims,
            ).where(at.is_not(None))
            for name, (at, dims) in day_moments(rows.c, state).items()
        )
    ).subquery("days")
    keys = [days.c.moment, days.c.commune_code, days.c.bucket_start, *(days.c[k] for k in kept)]
    return select(*keys, cast(sign * func.count(), BigInteger).label("entities")).group_by(*keys)


def _to_units(state: Table, changes: Any) -> Any:
    """``INSERT … SELECT`` adding the per-commune ``changes`` (the columns of
    :data:`MOMENTS`, netted, none zero) to every unit holding the commune."""
    kept = kept_columns(state.name)
    unit = _CLOSURE.c.ancestor_code
    keys = (
        changes.c.moment,
        _CLOSURE.c.hierarchy,
        unit,
        changes.c.bucket_start,
        *(changes.c[k] for k in kept),
    )
    table_name = literal(state.name, String).label("state_table")
    total = func.sum(changes.c.entities)
    counted = (
        select(table_name, *keys, cast(total, BigInteger).label("n"))
        .select_from(changes.join(_CLOSURE, _CLOSURE.c.descendant_code == changes.c.commune_code))
        .group_by(*keys)
        .having(total != 0)
        .order_by(*keys)
    )
    target = LIFECYCLE_UNIT_DAILY
    stmt = insert(target).from_select([*KEY, *kept, "entities"], counted)
    return stmt.on_conflict_do_update(
        index_elements=[*KEY, *KEPT],
        set_={"entities": target.c.entities + stmt.excluded.entities, "updated_at": func.now()},
    )


KEYS = "keys"
"""The parameter of :func:`take_off_sql`: the keys of the entities a batch changes."""


def take_off_sql(state: Table, key: str, dialect: Dialect) -> str:
    """Lock the state rows of the entities whose keys are the ``%(keys)s`` parameter (a
    list: an index look-up per key, whatever the planner knows of a staging table), in key
    order, and stage their current moments, counted negative per commune and day, in
    :data:`MOMENTS` for :func:`put_back`; return their earliest moment (:func:`_earliest`)."""
    cols = _columns(state)
    locked = (
        select(*cols)
        .where(state.c[key] == func.any(literal_column(f"%({KEYS})s")))
        .order_by(state.c[key])
        .with_for_update()
        .cte("locked")
    )
    kept = kept_columns(state.name)
    staged = (
        insert(MOMENTS)
        .from_select(
            ["moment", "commune_code", "bucket_start", *kept, "entities"],
            _per_commune(state, locked, -1),
        )
        .returning(MOMENTS.c.moment)
        .cte("staged")
    )
    sql = _text(_earliest(locked).add_cte(staged), dialect)
    # The compiler escapes a literal "%" for the driver's parameter style: the
    # placeholder is meant as one.
    return sql.replace(f"%%({KEYS})s", f"%({KEYS})s")


def _earliest(rows: Any) -> Select[Any]:
    """The earliest moment of the entities in ``rows`` (state columns), for the change log
    (``models.tables.changes``): asked of their rows before the merge and after it, since a
    change moves an entity's counts only at its old and new moments. Read from the rows the
    two statements already hold: a look-up of its own cost a fifth of ingest's rate."""
    c = rows.c
    return select(func.min(func.least(*moments(c).values(), completed(c))))


def put_back(state: Table, merge: Any) -> Any:
    """The merge (an ``INSERT … ON CONFLICT`` into ``state``) as a CTE returning the new
    moments' columns, and the statement adding them to their days net of the old moments
    :func:`take_off_sql` staged (emptying :data:`MOMENTS`): a moment an event left where
    it was (most of them: the receipt, the deadline) cancels out per commune and day and
    costs no unit row; only the days that changed are written, in every unit holding the
    commune; returns the merged entities' earliest moment (:func:`_earliest`)."""
    cols = _columns(state)
    kept = kept_columns(state.name)
    merged = merge.returning(*cols).cte("merged")
    taken = delete(MOMENTS).returning(*MOMENTS.c).cte("taken")
    both = union_all(
        select(
            taken.c.moment,
            taken.c.commune_code,
            taken.c.bucket_start,
            *(taken.c[k] for k in kept),
            taken.c.entities,
        ),
        _per_commune(state, merged, 1),
    ).subquery("both_")
    keys = [both.c.moment, both.c.commune_code, both.c.bucket_start, *(both.c[k] for k in kept)]
    total = func.sum(both.c.entities)
    changes = (
        select(*keys, cast(total, BigInteger).label("entities"))
        .group_by(*keys)
        .having(total != 0)
        .subquery("changes")
    )
    units = _to_units(state, changes).returning(LIFECYCLE_UNIT_DAILY.c.moment).cte("units")
    return _earliest(merged).add_cte(taken).add_cte(units)


def _columns(state: Table) -> list[Any]:
    """The state columns the counted moments and their kept values are computed from."""
    names = ("commune_code", *MOMENT_COLUMNS, *kept_columns(state.name))
    return [state.c[n] for n in names if n in state.c]


def _text(stmt: Any, dialect: Dialect) -> str:
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

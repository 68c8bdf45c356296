"""Lifecycle entities counted per moment, administrative unit and local day.

``lifecycle_unit_daily`` replaces ``lifecycle_daily`` (per commune): each commune's count is
kept in every unit the closure table says holds it, in both hierarchies, so a province's
or district's year of open, overdue, received and completed entities is read from its own
day rows by key, not from every commune's rows through the closure. Completions are also
counted by the state columns lifecycle indicators filter on (punctuality, rating,
complaint), so "completed on time" needs no scan of the state table either.

Here the counts are made from the state rows already stored, with the moments ingest uses
(``ingest.store_lifecycle``), through the closure table as loaded now. A day row's
``updated_at`` (what an answer gives as its "as of") is the newest change among the rows it
sums: the per-commune day rows' for the moments kept before, the entities' own for
completions.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCAL_TZ = "Asia/Ho_Chi_Minh"

# state table → (its completion column, its deadline)
STATES = {
    "public_service_dossier": ("completed_at", "due_at + supplement_days * interval '1 day'"),
    "citizen_report": ("resolved_at", "due_at"),
}
# The columns completions are counted by, and their types.
KEPT_TYPES = {
    "on_time": "boolean",
    "rating": "varchar(10)",
    "complaint": "boolean",
    "resolved_on_time": "boolean",
}
KEPT = {
    "public_service_dossier": ("on_time", "rating", "complaint"),
    "citizen_report": ("resolved_on_time", "rating"),
}
KEY = ("state_table", "moment", "hierarchy", "unit_code", "bucket_start")


def backfill(table: str, completion: str, due: str, kept: Sequence[str]) -> str:
    """Every entity's moments counted per unit holding its commune and local day."""
    done = (
        f"CASE WHEN coalesce({completion}, rated_at) IS NULL THEN NULL "
        f"ELSE greatest(received_at, coalesce({completion}, rated_at)) END"
    )
    due_or_done = f"CASE WHEN ({done}) IS NULL THEN NULL ELSE greatest({due}, {done}) END"
    completed = f"CASE WHEN {completion} IS NULL THEN NULL ELSE greatest(received_at, {completion}) END"
    none = "".join(f", CAST(NULL AS {KEPT_TYPES[k]})" for k in kept)
    own = "".join(f", s.{k}" for k in kept)
    names = ", ".join((*KEY, *kept, "entities", "updated_at"))
    dims = "".join(f", m.{k}" for k in kept)
    return f"""
INSERT INTO lifecycle_unit_daily ({names})
SELECT '{table}', m.moment, c.hierarchy, c.ancestor_code, date_trunc('day', m.at, '{LOCAL_TZ}')
       {dims}, count(*), max(s.updated_at)
FROM {table} AS s
CROSS JOIN LATERAL (VALUES ('received', s.received_at{none}), ('done', {done}{none}),
                           ('due', {due}{none}), ('due_or_done', {due_or_done}{none}),
                           ('completed', {completed}{own}))
    AS m (moment, at{"".join(f", {k}" for k in kept)})
JOIN admin_unit_closure AS c ON c.descendant_code = s.commune_code
WHERE m.at IS NOT NULL
GROUP BY m.moment, c.hierarchy, c.ancestor_code, date_trunc('day', m.at, '{LOCAL_TZ}'){dims}
"""


# The moments the per-commune rows kept: their newest change per unit and day, and the days
# whose every entity has since moved away (kept at 0, so their change is still seen).
STAMPS = f"""
WITH per_unit AS (
    SELECT d.state_table, d.moment, c.hierarchy, c.ancestor_code AS unit_code, d.bucket_start,
           max(d.updated_at) AS updated_at
    FROM lifecycle_daily AS d
    JOIN admin_unit_closure AS c ON c.descendant_code = d.commune_code
    GROUP BY d.state_table, d.moment, c.hierarchy, c.ancestor_code, d.bucket_start
)
INSERT INTO lifecycle_unit_daily ({", ".join(KEY)}, entities, updated_at)
SELECT {", ".join(KEY)}, 0, updated_at FROM per_unit
ON CONFLICT ({", ".join(KEY)}, {", ".join(KEPT_TYPES)})
DO UPDATE SET updated_at = excluded.updated_at
"""


def upgrade() -> None:
    op.create_table(
        "lifecycle_unit_daily",
        sa.Column("state_table", sa.String(length=80), nullable=False),
        sa.Column("moment", sa.String(length=20), nullable=False),
        sa.Column("hierarchy", sa.String(length=4), nullable=False),
        sa.Column("unit_code", sa.String(length=8), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.String(length=10), nullable=True),
        sa.Column("complaint", sa.Boolean(), nullable=True),
        sa.Column("resolved_on_time", sa.Boolean(), nullable=True),
        sa.Column("entities", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        comment="Lifecycle entities per moment, administrative unit (every level, both "
        "hierarchies) and local (Asia/Ho_Chi_Minh) calendar day",
    )
    op.create_index(
        "uq_lifecycle_unit_daily",
        "lifecycle_unit_daily",
        [*KEY, *KEPT_TYPES],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    for table, (completion, due) in STATES.items():
        op.execute(backfill(table, completion, due, KEPT[table]))
    op.execute(STAMPS)
    op.drop_table("lifecycle_daily")


def downgrade() -> None:
    op.create_table(
        "lifecycle_daily",
        sa.Column("state_table", sa.String(length=80), nullable=False),
        sa.Column("moment", sa.String(length=20), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("entities", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "state_table", "moment", "bucket_start", "commune_code", name="pk_lifecycle_daily"
        ),
    )
    # A 2020 commune is a unit of its own in the closure: its rows are the commune's.
    op.execute(
        "INSERT INTO lifecycle_daily "
        "SELECT u.state_table, u.moment, u.bucket_start, u.unit_code, u.entities, u.updated_at "
        "FROM lifecycle_unit_daily AS u JOIN admin_unit_closure AS c "
        "ON c.hierarchy = u.hierarchy AND c.ancestor_code = u.unit_code "
        "AND c.descendant_code = u.unit_code "
        "WHERE u.hierarchy = '2020' AND c.ancestor_level = 'commune' AND u.moment <> 'completed'"
    )
    op.drop_table("lifecycle_unit_daily")

"""Lifecycle entities counted per moment, commune and local day (``lifecycle_daily``).

Open and overdue dossiers at a moment are differences of running totals (received before
it less finished before it, and so on); ingest now keeps those totals per day and commune
in the batch's transaction, so a year's answer sums day rows instead of scanning every
state row. Here they are counted once from the state rows already stored, with the same
moments ingest uses (``ingest.store_lifecycle``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCAL_TZ = "Asia/Ho_Chi_Minh"

# state table → (its completion column, its deadline)
STATES = {
    "public_service_dossier": ("completed_at", "due_at + supplement_days * interval '1 day'"),
    "citizen_report": ("resolved_at", "due_at"),
}


def backfill(table: str, completion: str, due: str) -> str:
    done = (
        f"CASE WHEN coalesce({completion}, rated_at) IS NULL THEN NULL "
        f"ELSE greatest(received_at, coalesce({completion}, rated_at)) END"
    )
    due_or_done = f"CASE WHEN ({done}) IS NULL THEN NULL ELSE greatest({due}, {done}) END"
    return f"""
INSERT INTO lifecycle_daily (state_table, moment, bucket_start, commune_code, entities)
SELECT '{table}', m.moment, date_trunc('day', m.at, '{LOCAL_TZ}'), s.commune_code, count(*)
FROM {table} AS s
CROSS JOIN LATERAL (VALUES ('received', s.received_at), ('done', {done}), ('due', {due}),
                           ('due_or_done', {due_or_done})) AS m (moment, at)
WHERE m.at IS NOT NULL
GROUP BY 1, 2, 3, 4
"""


def upgrade() -> None:
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
    for table, (completion, due) in STATES.items():
        op.execute(backfill(table, completion, due))


def downgrade() -> None:
    op.drop_table("lifecycle_daily")

"""What each commit may have changed: the change log.

A transaction writing rows the indicator answers read logs, in itself, the earliest moment
those rows count at, keyed by its transaction id; the API keeps an answer across commits
that cannot change it (``models.tables.changes``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEVER_ANALYZED = "autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000000000"


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("xid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "logged_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("xid", name=op.f("pk_change_log")),
    )
    op.create_index("ix_change_log_logged_at", "change_log", ["logged_at"])
    # Autovacuum's ANALYZE is a commit without a change-log row, which sends every kept
    # answer back. Two tables would call one every minute or few under a live feed while
    # their statistics help no query: this one (a row per batch, read by primary key,
    # pruned by logged_at) and source_freshness (a fixed row per source and stream,
    # rewritten by every batch, read whole: 57 ANALYZEs so far on the benchmark year).
    for table in ("change_log", "source_freshness"):
        op.execute(f"ALTER TABLE {table} SET ({_NEVER_ANALYZED})")


def downgrade() -> None:
    op.execute(
        "ALTER TABLE source_freshness RESET"
        " (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)"
    )
    op.drop_index("ix_change_log_logged_at", table_name="change_log")
    op.drop_table("change_log")

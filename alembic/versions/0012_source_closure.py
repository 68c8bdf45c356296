"""Declared closures of sources: a closed school or desk owes no report while closed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_closure",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("unit_code", sa.String(length=8), nullable=True),
        sa.Column(
            "kinds", postgresql.ARRAY(sa.String(length=32)), server_default="{}", nullable=False
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_by", sa.String(length=120), nullable=False),
        sa.Column(
            "declared_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("withdrawn_by", sa.String(length=120), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source IS NOT NULL OR unit_code IS NOT NULL",
            name=op.f("ck_source_closure_closes_something"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_source_closure_ends_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_closure")),
    )
    op.create_index(
        "ix_source_closure_period", "source_closure", ["starts_at", "ends_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_source_closure_period", table_name="source_closure")
    op.drop_table("source_closure")

"""Serving tables: hashed API keys, alerts and their lifecycle.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_api_key"),
        sa.UniqueConstraint("key_hash", name="uq_api_key_key_hash"),
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("rule_code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("indicator_code", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(8), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("period_start", TS, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("threshold", sa.Float),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("opened_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("acknowledged_at", TS),
        sa.Column("acknowledged_by", sa.String(120)),
        sa.Column("resolved_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_alert"),
    )
    op.create_index(
        "uq_alert_open_rule_unit",
        "alert",
        ["rule_code", "unit_code"],
        unique=True,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_index("ix_alert_status_opened_at", "alert", ["status", "opened_at"])


def downgrade() -> None:
    op.drop_table("alert")
    op.drop_table("api_key")

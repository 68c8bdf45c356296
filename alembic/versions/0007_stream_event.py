"""Live-stream log: events the one evaluator writes and every API replica serves, so SSE ids
come from the database and ``Last-Event-ID`` resumes on any replica.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stream_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("data", postgresql.JSONB, nullable=False),
        sa.Column("indicator", sa.String(64)),
        sa.Column("units", postgresql.ARRAY(sa.String(8)), nullable=False, server_default="{}"),
        sa.Column("open_data", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("public_only", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stream_event"),
    )
    op.create_index("ix_stream_event_created_at", "stream_event", ["created_at"])


def downgrade() -> None:
    op.drop_table("stream_event")

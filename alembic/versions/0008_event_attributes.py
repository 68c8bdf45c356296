"""Optional CloudEvents attributes and extensions kept beside each event's key.

``dataschema``, ``traceparent``/``tracestate`` (distributed tracing) and ``partitionkey``
(partitioning) are accepted now, in structured and binary content mode; they are kept in
``event_key``, one row per event whatever its stream, rather than in every event table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {"dataschema": 2048, "traceparent": 55, "tracestate": 512, "partitionkey": 256}


def upgrade() -> None:
    for name, length in COLUMNS.items():
        op.add_column("event_key", sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_column("event_key", name)

"""The source roll-up's day tier keeps which local hours had events (``hour_mask``).

Bit ``h`` of ``source_daily.hour_mask`` is set when the source sent an event of that type
in local (Asia/Ho_Chi_Minh) hour ``h`` of the day: the reporting slots it filled, read from
one row a day instead of 24. Ingest keeps it (``bit_or`` on conflict) in the batch's
transaction from then on; here it is filled from the hourly rows already stored. An index
on (source, day) with the mask included lets a source's year be read without the table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCAL_TZ = "Asia/Ho_Chi_Minh"

BACKFILL = f"""
UPDATE source_daily AS d SET hour_mask = m.mask
FROM (
    SELECT date_trunc('day', bucket_start, '{LOCAL_TZ}') AS day, commune_code, source,
           event_type,
           bit_or(1 << extract(hour FROM bucket_start AT TIME ZONE '{LOCAL_TZ}')::int) AS mask
    FROM source_hourly
    GROUP BY 1, 2, 3, 4
) AS m
WHERE d.bucket_start = m.day AND d.commune_code = m.commune_code
  AND d.source = m.source AND d.event_type = m.event_type
"""


def upgrade() -> None:
    op.add_column(
        "source_daily",
        sa.Column("hour_mask", sa.Integer(), server_default="0", nullable=False),
    )
    op.execute(BACKFILL)
    op.create_index(
        "ix_source_daily_source",
        "source_daily",
        ["source", "bucket_start"],
        postgresql_include=["hour_mask"],
    )


def downgrade() -> None:
    op.drop_index("ix_source_daily_source", table_name="source_daily")
    op.drop_column("source_daily", "hour_mask")

"""The per-source day masks readable from an index alone.

Completeness counts, for every source feeding an indicator, which of its owed slots
arrived, from ``source_day_mask`` (one row per source and local day): a province's year is
a few hundred thousand rows. With the mask carried in an index on (source, day), those rows
come from an index-only scan of each source's range instead of a heap page per day (once
(auto)vacuum has marked the table's pages all-visible; until then the scan reads the heap,
as before).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_source_day_mask_masks",
        "source_day_mask",
        ["source", "bucket_start"],
        postgresql_include=["hour_mask"],
    )


def downgrade() -> None:
    op.drop_index("ix_source_day_mask_masks", table_name="source_day_mask")

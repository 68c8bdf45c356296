"""Dossier roll-up: ratings that were "dislike" or came with a complaint, each counted once.

Satisfaction (Decision 766) subtracts the share of dossiers with a complaint *or* a
"dislike"; summing ``rated_dislike`` and ``complaints`` counted a disliked dossier with a
complaint twice. Existing hours are filled from the rated events still kept.

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = ("0002", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "public_service_dossier_hourly",
        sa.Column(
            "rated_dislike_or_complaint", sa.BigInteger(), nullable=False, server_default="0"
        ),
    )
    op.execute(
        """
        UPDATE public_service_dossier_hourly AS h
        SET rated_dislike_or_complaint = e.n
        FROM (
            SELECT date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                       AS bucket_start,
                   commune_code, stage, agency_level, online_level, channel, count(*) AS n
            FROM public_service_dossier_event
            WHERE rating = 'dislike' OR complaint
            GROUP BY 1, 2, 3, 4, 5, 6
        ) AS e
        WHERE h.bucket_start = e.bucket_start AND h.commune_code = e.commune_code
          AND h.stage = e.stage AND h.agency_level = e.agency_level
          AND h.online_level = e.online_level AND h.channel = e.channel
        """
    )
    op.alter_column(
        "public_service_dossier_hourly", "rated_dislike_or_complaint", server_default=None
    )


def downgrade() -> None:
    op.drop_column("public_service_dossier_hourly", "rated_dislike_or_complaint")
